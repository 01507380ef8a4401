import { createHash } from 'node:crypto';

import { beforeEach, describe, expect, it } from '@jest/globals';

import { escrowIdOf } from './escrow';
import { expectOk, expectRejected } from './testing/expect';
import { makeFixture, ok, seed, TEST_ISIN } from './testing/fixture';
import type { Fixture } from './testing/fixture';

const T0 = 1_700_000_000;
const PREIMAGE = createHash('sha256').update('escrow test secret').digest('hex');
const HASHLOCK = createHash('sha256').update(Buffer.from(PREIMAGE, 'hex')).digest('hex');

let fx: Fixture;
/** alice's escrow for TRADE-1. */
let E1: string;
beforeEach(async () => {
  fx = await makeFixture(T0);
  await seed(fx, 1000n);
  E1 = escrowIdOf(fx.ids.alice.account, 'TRADE-1');
});

interface DepositOptions {
  readonly hashlock?: string;
  readonly quantity?: string;
  readonly controller?: string;
  readonly notary?: string;
  readonly tradeId?: string;
  readonly as?: keyof Fixture['ids'];
}

const deposit = (o: DepositOptions = {}) =>
  fx.ledger.submit(
    fx.ids[o.as ?? 'alice'],
    'EscrowDeposit',
    o.tradeId ?? 'TRADE-1',
    TEST_ISIN,
    o.quantity ?? '400',
    fx.ids.bob.account,
    o.controller ?? fx.ids.manager.account,
    String(T0 + 3600),
    o.hashlock ?? '',
    o.notary ?? '',
  );
const release = (who: keyof Fixture['ids'], quantity: string, preimage = '') =>
  fx.ledger.submit(fx.ids[who], 'EscrowRelease', E1, quantity, preimage);
const approve = (who: keyof Fixture['ids'], quantity: string) =>
  fx.ledger.submit(fx.ids[who], 'EscrowApprove', E1, quantity);
const balance = async (who: keyof Fixture['ids']) =>
  (await fx.ledger.evaluate(fx.ids[who], 'BalanceOf', TEST_ISIN, fx.ids[who].account)).payload;

describe('escrow', () => {
  describe('EscrowDeposit', () => {
    it('moves the quantity into escrow and emits EscrowDeposited with the trade binding', async () => {
      const r = await deposit();
      const expected = {
        approved: '0',
        approvalsUsed: 0,
        beneficiary: fx.ids.bob.account,
        controller: fx.ids.manager.account,
        createdAt: T0,
        depositor: fx.ids.alice.account,
        escrowId: E1,
        expiry: T0 + 3600,
        hashlock: '',
        isin: TEST_ISIN,
        notary: '',
        preimage: '',
        quantity: '400',
        released: '0',
        remaining: '400',
        returned: '0',
        status: 'OPEN',
        tradeId: 'TRADE-1',
        updatedAt: T0,
      };
      expect(expectOk(r)).toEqual(expected);
      expect(r.event).toEqual({
        name: 'EscrowDeposited',
        payload: { ...expected, type: 'EscrowDeposited', txId: r.txId, timestamp: T0 },
      });
      expect(await balance('alice')).toBe('600');
      expect(expectOk(await fx.ledger.evaluate(fx.ids.carol, 'GetEscrow', E1))).toEqual(expected);
    });

    it('rejects a controller that is not an identity with INVALID_ARGUMENT', async () => {
      expectRejected(await deposit({ quantity: '1', controller: 'some-account' }), 'INVALID_ARGUMENT', {
        controller: 'some-account',
      });
      expectRejected(await deposit({ notary: 'some-account' }), 'INVALID_ARGUMENT', { notary: 'some-account' });
    });

    it('rejects a malformed hashlock with INVALID_ARGUMENT', async () => {
      expectRejected(await deposit({ hashlock: 'abcd' }), 'INVALID_ARGUMENT', { field: 'hashlock' });
      expectRejected(await deposit({ hashlock: '00'.repeat(32) }), 'INVALID_ARGUMENT', { field: 'hashlock' });
    });

    it('derives the id from depositor and trade: SHA-256 of the JSON array [depositor, tradeId]', async () => {
      const id = createHash('sha256')
        .update(JSON.stringify([fx.ids.alice.account, 'TRADE-1']))
        .digest('hex');
      expect((expectOk(await deposit()) as { escrowId: string }).escrowId).toBe(id);
      expect(E1).toBe(id);
    });

    it('rejects a second deposit by the same depositor for the same trade with ALREADY_EXISTS', async () => {
      ok(await deposit());
      expectRejected(await deposit({ quantity: '1' }), 'ALREADY_EXISTS', { escrowId: E1, tradeId: 'TRADE-1' });
      expect(await balance('alice')).toBe('600');
    });

    it('gives another depositor its own escrow for the same trade', async () => {
      ok(
        await fx.ledger.submit(fx.ids.alice, 'Transfer', TEST_ISIN, fx.ids.alice.account, fx.ids.carol.account, '100'),
      );
      const carols = expectOk(await deposit({ as: 'carol', quantity: '100' })) as { escrowId: string };
      const alices = expectOk(await deposit()) as { escrowId: string };
      expect(carols.escrowId).toBe(escrowIdOf(fx.ids.carol.account, 'TRADE-1'));
      expect(carols.escrowId).not.toBe(alices.escrowId);
    });
  });

  describe('EscrowApprove', () => {
    const withNotary = () => deposit({ notary: fx.ids.notary.account });

    it('records the notary’s approval, emits EscrowApproved, and the release uses it up', async () => {
      ok(await withNotary());
      const a = await approve('notary', '150');
      expect(expectOk(a)).toMatchObject({ approved: '150', approvalsUsed: 0, notary: fx.ids.notary.account });
      expect(a.event?.payload).toMatchObject({
        type: 'EscrowApproved',
        escrowId: E1,
        approved: '150',
        approvalNumber: 1,
      });
      expect(expectOk(await release('manager', '150'))).toMatchObject({ approved: '0', approvalsUsed: 1 });
      expectRejected(await release('manager', '150'), 'NOT_APPROVED', { approved: '0', requested: '150' });
    });

    it('refuses a release of another quantity than approved with NOT_APPROVED, and keeps the approval', async () => {
      ok(await withNotary());
      ok(await approve('notary', '100'));
      expectRejected(await release('manager', '150'), 'NOT_APPROVED', { approved: '100', requested: '150' });
      ok(await release('manager', '100'));
      expect(await balance('bob')).toBe('100');
    });

    it('lets only the escrow’s notary approve: NOT_AUTHORIZED for anyone else, and on an escrow without one', async () => {
      ok(await withNotary());
      for (const who of ['manager', 'alice', 'bob', 'carol'] as const) {
        expectRejected(await approve(who, '1'), 'NOT_AUTHORIZED', { escrowId: E1 });
      }
      ok(await deposit({ tradeId: 'TRADE-2' }));
      const plain = escrowIdOf(fx.ids.alice.account, 'TRADE-2');
      expectRejected(await fx.ledger.submit(fx.ids.notary, 'EscrowApprove', plain, '1'), 'NOT_AUTHORIZED');
    });

    it('rejects an approval beyond what remains, at the expiry, or of a settled escrow', async () => {
      ok(await withNotary());
      expectRejected(await approve('notary', '401'), 'EXCEEDS_ESCROW', { remaining: '400', requested: '401' });
      expectRejected(await approve('notary', '0'), 'INVALID_ARGUMENT');
      fx.ledger.time = T0 + 3600;
      expectRejected(await approve('notary', '1'), 'LOCK_EXPIRED', { expiry: T0 + 3600 });
      ok(await fx.ledger.submit(fx.ids.manager, 'EscrowReturn', E1));
      expectRejected(await approve('notary', '1'), 'ALREADY_SETTLED');
    });
  });

  describe('EscrowRelease', () => {
    it('releases part, emits EscrowReleased with the quantity, and keeps the rest in escrow', async () => {
      ok(await deposit());
      const r = await release('manager', '150');
      expect(expectOk(r)).toMatchObject({ status: 'OPEN', released: '150', remaining: '250' });
      expect(r.event?.payload).toMatchObject({
        type: 'EscrowReleased',
        escrowId: E1,
        tradeId: 'TRADE-1',
        quantityReleased: '150',
        remaining: '250',
        beneficiary: fx.ids.bob.account,
      });
      expect(await balance('bob')).toBe('150');
    });

    it('marks the escrow RELEASED when nothing remains', async () => {
      ok(await deposit());
      ok(await release('manager', '100'));
      expect(expectOk(await release('manager', '300'))).toMatchObject({ status: 'RELEASED', remaining: '0' });
      expectRejected(await release('manager', '1'), 'ALREADY_SETTLED', { status: 'RELEASED' });
    });

    it('rejects a release by the depositor or the beneficiary with NOT_AUTHORIZED', async () => {
      ok(await deposit());
      expectRejected(await release('alice', '1'), 'NOT_AUTHORIZED', { escrowId: E1 });
      expectRejected(await release('bob', '1'), 'NOT_AUTHORIZED', { escrowId: E1 });
    });

    it('rejects a release beyond what remains with EXCEEDS_ESCROW', async () => {
      ok(await deposit());
      expectRejected(await release('manager', '401'), 'EXCEEDS_ESCROW', { remaining: '400', requested: '401' });
    });

    it('rejects a release at expiry with LOCK_EXPIRED', async () => {
      ok(await deposit());
      fx.ledger.time = T0 + 3600;
      expectRejected(await release('manager', '1'), 'LOCK_EXPIRED', { expiry: T0 + 3600 });
    });

    it('lets a stranger holding the preimage release a hash-conditioned escrow and records the preimage', async () => {
      ok(await deposit({ hashlock: HASHLOCK }));
      const r = await release('carol', '400', PREIMAGE);
      expect(expectOk(r)).toMatchObject({ status: 'RELEASED', preimage: PREIMAGE });
      expect(r.event?.payload).toMatchObject({ preimage: PREIMAGE, quantityReleased: '400' });
      expect(await balance('bob')).toBe('400');
    });

    it('checks the preimage of a hash-conditioned escrow: length, then hash', async () => {
      ok(await deposit({ hashlock: HASHLOCK }));
      expectRejected(await release('carol', '1', 'ab'.repeat(31)), 'INVALID_ARGUMENT', { bytes: 31 });
      expectRejected(await release('carol', '1', 'ab'.repeat(32)), 'BAD_PREIMAGE');
    });

    it('ignores a preimage presented for an escrow without hash condition', async () => {
      ok(await deposit());
      expectRejected(await release('carol', '1', PREIMAGE), 'NOT_AUTHORIZED');
    });
  });

  describe('EscrowReturn', () => {
    it('lets the controller return the rest after a partial release and emits EscrowReturned', async () => {
      ok(await deposit());
      ok(await release('manager', '150'));
      const r = await fx.ledger.submit(fx.ids.manager, 'EscrowReturn', E1);
      expect(expectOk(r)).toMatchObject({ status: 'RETURNED', released: '150', returned: '250', remaining: '0' });
      expect(r.event?.payload).toMatchObject({ type: 'EscrowReturned', quantityReturned: '250' });
      expect([await balance('alice'), await balance('bob')]).toEqual(['850', '150']);
    });

    it('rejects a return by the depositor before expiry with LOCK_NOT_EXPIRED, and allows it at expiry', async () => {
      ok(await deposit());
      fx.ledger.time = T0 + 3599;
      expectRejected(await fx.ledger.submit(fx.ids.alice, 'EscrowReturn', E1), 'LOCK_NOT_EXPIRED', {
        expiry: T0 + 3600,
        now: T0 + 3599,
      });
      fx.ledger.time = T0 + 3600;
      ok(await fx.ledger.submit(fx.ids.alice, 'EscrowReturn', E1));
      expect(await balance('alice')).toBe('1000');
    });

    it('rejects a return by anyone else with NOT_AUTHORIZED, even after expiry', async () => {
      ok(await deposit());
      fx.ledger.time = T0 + 4000;
      expectRejected(await fx.ledger.submit(fx.ids.bob, 'EscrowReturn', E1), 'NOT_AUTHORIZED');
    });

    it('rejects a second return with ALREADY_SETTLED', async () => {
      ok(await deposit());
      ok(await fx.ledger.submit(fx.ids.manager, 'EscrowReturn', E1));
      expectRejected(await fx.ledger.submit(fx.ids.manager, 'EscrowReturn', E1), 'ALREADY_SETTLED', {
        status: 'RETURNED',
      });
    });
  });
});
