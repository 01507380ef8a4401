import { createHash } from 'node:crypto';

import { beforeEach, describe, expect, it } from '@jest/globals';

import { expectOk, expectRejected } from './testing/expect';
import { makeFixture, ok, seed, TEST_ISIN } from './testing/fixture';
import type { Fixture } from './testing/fixture';

const T0 = 1_700_000_000;
const PREIMAGE = createHash('sha256').update('htlc test secret').digest('hex');
const HASHLOCK = createHash('sha256').update(Buffer.from(PREIMAGE, 'hex')).digest('hex');

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture(T0);
  await seed(fx, 1000n);
});

const lock = (over: Partial<Record<'lockId' | 'quantity' | 'receiver' | 'hashlock' | 'expiry', string>> = {}) =>
  fx.ledger.submit(
    fx.ids.alice,
    'LockHTLC',
    over.lockId ?? 'L1',
    TEST_ISIN,
    over.quantity ?? '100',
    over.receiver ?? fx.ids.bob.account,
    over.hashlock ?? HASHLOCK,
    over.expiry ?? String(T0 + 600),
  );

describe('HTLC', () => {
  describe('LockHTLC', () => {
    it('locks the quantity and emits HTLCLocked with everything a watcher must verify', async () => {
      const r = await lock();
      const expected = {
        createdAt: T0,
        expiry: T0 + 600,
        hashlock: HASHLOCK,
        isin: TEST_ISIN,
        lockId: 'L1',
        preimage: '',
        quantity: '100',
        receiver: fx.ids.bob.account,
        sender: fx.ids.alice.account,
        settledAt: 0,
        status: 'LOCKED',
      };
      expect(expectOk(r)).toEqual(expected);
      expect(r.event).toEqual({
        name: 'HTLCLocked',
        payload: { ...expected, type: 'HTLCLocked', txId: r.txId, timestamp: T0 },
      });
      expect((await fx.ledger.evaluate(fx.ids.alice, 'BalanceOf', TEST_ISIN, fx.ids.alice.account)).payload).toBe(
        '900',
      );
      expect(expectOk(await fx.ledger.evaluate(fx.ids.bob, 'GetHTLC', 'L1'))).toEqual(expected);
    });

    it('normalizes a 0x-prefixed upper-case hashlock', async () => {
      const r = await lock({ hashlock: `0x${HASHLOCK.toUpperCase()}` });
      expect(expectOk(r)).toMatchObject({ hashlock: HASHLOCK });
    });

    it.each([
      ['a hashlock of 31 bytes', { hashlock: HASHLOCK.slice(2) }],
      ['a non-hex hashlock', { hashlock: 'zz'.repeat(32) }],
      ['an all-zero hashlock (as the cash ledger rejects it)', { hashlock: `0x${'00'.repeat(32)}` }],
      ['an expiry equal to the transaction time', { expiry: String(T0) }],
      ['a fractional expiry', { expiry: String(T0 + 0.5) }],
      ['a zero quantity', { quantity: '0' }],
      ['a lock id with spaces', { lockId: 'my lock' }],
    ])('rejects %s with INVALID_ARGUMENT', async (_why, over) => {
      expectRejected(await lock(over), 'INVALID_ARGUMENT');
    });

    it('rejects a reused lock id with ALREADY_EXISTS', async () => {
      ok(await lock());
      expectRejected(await lock(), 'ALREADY_EXISTS', { lockId: 'L1' });
    });

    it('rejects more than the free balance with INSUFFICIENT_BALANCE', async () => {
      expectRejected(await lock({ quantity: '1001' }), 'INSUFFICIENT_BALANCE', { balance: '1000', needed: '1001' });
    });

    it('rejects an unknown instrument with NOT_FOUND', async () => {
      const r = await fx.ledger.submit(
        fx.ids.alice,
        'LockHTLC',
        'L1',
        'DE0007164600',
        '1',
        fx.ids.bob.account,
        HASHLOCK,
        String(T0 + 1),
      );
      expectRejected(r, 'NOT_FOUND', { isin: 'DE0007164600' });
    });
  });

  describe('ClaimHTLC', () => {
    beforeEach(async () => {
      ok(await lock());
    });

    it('pays the receiver, records the preimage and emits HTLCClaimed with it', async () => {
      fx.ledger.time = T0 + 599;
      const r = await fx.ledger.submit(fx.ids.carol, 'ClaimHTLC', 'L1', `0x${PREIMAGE}`);
      expect(expectOk(r)).toMatchObject({ status: 'CLAIMED', preimage: PREIMAGE, settledAt: T0 + 599 });
      expect(r.event).toEqual({
        name: 'HTLCClaimed',
        payload: expect.objectContaining({
          type: 'HTLCClaimed',
          lockId: 'L1',
          preimage: PREIMAGE,
          hashlock: HASHLOCK,
          receiver: fx.ids.bob.account,
          quantity: '100',
          timestamp: T0 + 599,
        }),
      });
      expect((await fx.ledger.evaluate(fx.ids.bob, 'BalanceOf', TEST_ISIN, fx.ids.bob.account)).payload).toBe('100');
      expect((await fx.ledger.evaluate(fx.ids.carol, 'BalanceOf', TEST_ISIN, fx.ids.carol.account)).payload).toBe('0');
    });

    it('rejects a claim at exactly the expiry with LOCK_EXPIRED and the times in the context', async () => {
      fx.ledger.time = T0 + 600;
      expectRejected(await fx.ledger.submit(fx.ids.bob, 'ClaimHTLC', 'L1', PREIMAGE), 'LOCK_EXPIRED', {
        lockId: 'L1',
        expiry: T0 + 600,
        now: T0 + 600,
      });
    });

    it('rejects a wrong 32-byte preimage with BAD_PREIMAGE', async () => {
      expectRejected(await fx.ledger.submit(fx.ids.bob, 'ClaimHTLC', 'L1', 'ab'.repeat(32)), 'BAD_PREIMAGE', {
        id: 'L1',
      });
    });

    it.each([
      ['31 bytes', 'ab'.repeat(31), 31],
      ['33 bytes', 'ab'.repeat(33), 33],
      ['0 bytes', '', 0],
    ])('rejects a preimage of %s with INVALID_ARGUMENT', async (_why, preimage, bytes) => {
      expectRejected(await fx.ledger.submit(fx.ids.bob, 'ClaimHTLC', 'L1', preimage), 'INVALID_ARGUMENT', { bytes });
    });

    it('rejects a second claim with ALREADY_SETTLED', async () => {
      ok(await fx.ledger.submit(fx.ids.bob, 'ClaimHTLC', 'L1', PREIMAGE));
      expectRejected(await fx.ledger.submit(fx.ids.bob, 'ClaimHTLC', 'L1', PREIMAGE), 'ALREADY_SETTLED', {
        status: 'CLAIMED',
      });
    });
  });

  describe('RefundHTLC', () => {
    beforeEach(async () => {
      ok(await lock());
    });

    it('rejects a refund one second before expiry with LOCK_NOT_EXPIRED', async () => {
      fx.ledger.time = T0 + 599;
      expectRejected(await fx.ledger.submit(fx.ids.alice, 'RefundHTLC', 'L1'), 'LOCK_NOT_EXPIRED', {
        expiry: T0 + 600,
        now: T0 + 599,
      });
    });

    it('returns the quantity to the sender at expiry and emits HTLCRefunded', async () => {
      fx.ledger.time = T0 + 600;
      const r = await fx.ledger.submit(fx.ids.alice, 'RefundHTLC', 'L1');
      expect(expectOk(r)).toMatchObject({ status: 'REFUNDED', settledAt: T0 + 600, preimage: '' });
      expect(r.event?.name).toBe('HTLCRefunded');
      expect(r.event?.payload).toMatchObject({ type: 'HTLCRefunded', lockId: 'L1', sender: fx.ids.alice.account });
      expect((await fx.ledger.evaluate(fx.ids.alice, 'BalanceOf', TEST_ISIN, fx.ids.alice.account)).payload).toBe(
        '1000',
      );
    });

    it('rejects a refund after a claim with ALREADY_SETTLED', async () => {
      ok(await fx.ledger.submit(fx.ids.bob, 'ClaimHTLC', 'L1', PREIMAGE));
      fx.ledger.time = T0 + 600;
      expectRejected(await fx.ledger.submit(fx.ids.alice, 'RefundHTLC', 'L1'), 'ALREADY_SETTLED');
    });

    it('reports NOT_FOUND for an unknown lock', async () => {
      expectRejected(await fx.ledger.submit(fx.ids.alice, 'RefundHTLC', 'L2'), 'NOT_FOUND', { lockId: 'L2' });
      expectRejected(await fx.ledger.evaluate(fx.ids.alice, 'GetHTLC', 'L2'), 'NOT_FOUND');
    });
  });
});
