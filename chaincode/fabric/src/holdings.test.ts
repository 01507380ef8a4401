import { beforeEach, describe, expect, it } from '@jest/globals';

import { expectOk, expectRejected } from './testing/expect';
import { makeFixture, ok, seed, TEST_ISIN } from './testing/fixture';
import type { Fixture } from './testing/fixture';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});

describe('instruments', () => {
  describe('CreateInstrument', () => {
    it('creates the instrument with the caller as issuer and emits InstrumentCreated', async () => {
      const r = await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', TEST_ISIN, 'Apple', '10');
      expect(expectOk(r)).toEqual({
        createdAt: 1_700_000_000,
        issued: '0',
        issuer: fx.ids.issuer.account,
        isin: TEST_ISIN,
        minSettlementUnit: '10',
        name: 'Apple',
        redeemed: '0',
      });
      expect(r.event).toEqual({
        name: 'InstrumentCreated',
        payload: {
          type: 'InstrumentCreated',
          txId: r.txId,
          timestamp: 1_700_000_000,
          isin: TEST_ISIN,
          name: 'Apple',
          minSettlementUnit: '10',
          issuer: fx.ids.issuer.account,
        },
      });
      expect(r.payload).toBe(JSON.stringify(JSON.parse(r.payload), Object.keys(JSON.parse(r.payload)).sort()));
    });

    it('rejects a caller without the issuer role with NOT_AUTHORIZED', async () => {
      expectRejected(
        await fx.ledger.submit(fx.ids.alice, 'CreateInstrument', TEST_ISIN, 'Apple', '1'),
        'NOT_AUTHORIZED',
        {
          transaction: 'CreateInstrument',
        },
      );
    });

    it('rejects an ISIN with a wrong check digit with INVALID_ARGUMENT', async () => {
      expectRejected(
        await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', 'US0378331006', 'Apple', '1'),
        'INVALID_ARGUMENT',
        { isin: 'US0378331006' },
      );
    });

    it('rejects a zero minimum settlement unit and an empty name with INVALID_ARGUMENT', async () => {
      expectRejected(
        await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', TEST_ISIN, 'Apple', '0'),
        'INVALID_ARGUMENT',
      );
      expectRejected(
        await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', TEST_ISIN, ' ', '1'),
        'INVALID_ARGUMENT',
      );
    });

    it('rejects a second instrument with the same ISIN with ALREADY_EXISTS', async () => {
      ok(await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', TEST_ISIN, 'Apple', '1'));
      expectRejected(
        await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', TEST_ISIN, 'Apple', '1'),
        'ALREADY_EXISTS',
      );
    });

    it('reports NOT_FOUND for an unknown instrument', async () => {
      expectRejected(await fx.ledger.evaluate(fx.ids.alice, 'Instrument', TEST_ISIN), 'NOT_FOUND', { isin: TEST_ISIN });
    });
  });

  describe('Issue and Redeem', () => {
    beforeEach(async () => seed(fx, 1000n));

    it('issues into an account, emits Issued and raises TotalSupply', async () => {
      const r = await fx.ledger.submit(fx.ids.issuer, 'Issue', TEST_ISIN, fx.ids.bob.account, '250');
      expectOk(r);
      expect(r.event?.payload).toEqual({
        type: 'Issued',
        txId: r.txId,
        timestamp: 1_700_000_000,
        isin: TEST_ISIN,
        account: fx.ids.bob.account,
        quantity: '250',
        balance: '250',
        issued: '1250',
      });
      expect(expectOk(await fx.ledger.evaluate(fx.ids.bob, 'TotalSupply', TEST_ISIN))).toBe(1250);
    });

    it('redeems from an account, emits Redeemed and lowers TotalSupply', async () => {
      const r = await fx.ledger.submit(fx.ids.issuer, 'Redeem', TEST_ISIN, fx.ids.alice.account, '400');
      expectOk(r);
      expect(r.event?.payload).toMatchObject({ type: 'Redeemed', quantity: '400', balance: '600', redeemed: '400' });
      expect((await fx.ledger.evaluate(fx.ids.bob, 'TotalSupply', TEST_ISIN)).payload).toBe('600');
    });

    it('rejects redeeming more than the free balance with INSUFFICIENT_BALANCE', async () => {
      expectRejected(
        await fx.ledger.submit(fx.ids.issuer, 'Redeem', TEST_ISIN, fx.ids.alice.account, '1001'),
        'INSUFFICIENT_BALANCE',
        { account: fx.ids.alice.account, balance: '1000', needed: '1001' },
      );
    });

    it('rejects another issuer of a different instrument with NOT_AUTHORIZED', async () => {
      const other = await fx.ca.issue({ mspId: 'OtherMSP', cn: 'other-issuer', attrs: { role: 'issuer' } });
      expectRejected(await fx.ledger.submit(other, 'Issue', TEST_ISIN, other.account, '1'), 'NOT_AUTHORIZED', {
        isin: TEST_ISIN,
      });
    });

    it('rejects quantities that are not decimal integer strings with INVALID_ARGUMENT', async () => {
      for (const bad of ['-5', '1.0', '1e2', '', '007']) {
        expectRejected(
          await fx.ledger.submit(fx.ids.issuer, 'Issue', TEST_ISIN, fx.ids.bob.account, bad),
          'INVALID_ARGUMENT',
        );
      }
    });
  });
});

describe('holdings', () => {
  beforeEach(async () => seed(fx, 1000n));

  describe('Transfer', () => {
    it('moves free units and emits Transferred', async () => {
      const r = await fx.ledger.submit(
        fx.ids.alice,
        'Transfer',
        TEST_ISIN,
        fx.ids.alice.account,
        fx.ids.bob.account,
        '300',
      );
      expectOk(r);
      expect(r.event?.payload).toEqual({
        type: 'Transferred',
        txId: r.txId,
        timestamp: 1_700_000_000,
        isin: TEST_ISIN,
        from: fx.ids.alice.account,
        to: fx.ids.bob.account,
        quantity: '300',
      });
      expect((await fx.ledger.evaluate(fx.ids.bob, 'BalanceOf', TEST_ISIN, fx.ids.bob.account)).payload).toBe('300');
      expect((await fx.ledger.evaluate(fx.ids.bob, 'BalanceOf', TEST_ISIN, fx.ids.alice.account)).payload).toBe('700');
    });

    it('rejects moving from an account the caller does not own with NOT_AUTHORIZED', async () => {
      expectRejected(
        await fx.ledger.submit(fx.ids.bob, 'Transfer', TEST_ISIN, fx.ids.alice.account, fx.ids.bob.account, '1'),
        'NOT_AUTHORIZED',
        { account: fx.ids.alice.account },
      );
    });

    it('rejects more than the free balance with INSUFFICIENT_BALANCE', async () => {
      expectRejected(
        await fx.ledger.submit(fx.ids.alice, 'Transfer', TEST_ISIN, fx.ids.alice.account, fx.ids.bob.account, '1001'),
        'INSUFFICIENT_BALANCE',
      );
    });

    it('rejects a destination that is neither an identity nor a registered account', async () => {
      const send = (to: string) => fx.ledger.submit(fx.ids.alice, 'Transfer', TEST_ISIN, fx.ids.alice.account, to, '1');
      expectRejected(await send('nobody'), 'NOT_FOUND', { account: 'nobody' });
      expectRejected(await send('no spaces allowed'), 'INVALID_ARGUMENT');
    });

    it('enforces the minimum settlement unit', async () => {
      const isin = 'DE0007164600';
      ok(await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', isin, 'SAP', '100'));
      ok(await fx.ledger.submit(fx.ids.issuer, 'Issue', isin, fx.ids.alice.account, '1000'));
      expectRejected(
        await fx.ledger.submit(fx.ids.alice, 'Transfer', isin, fx.ids.alice.account, fx.ids.bob.account, '150'),
        'INVALID_ARGUMENT',
        { minSettlementUnit: '100', quantity: '150' },
      );
      ok(await fx.ledger.submit(fx.ids.alice, 'Transfer', isin, fx.ids.alice.account, fx.ids.bob.account, '200'));
    });
  });

  describe('explicit accounts', () => {
    it('lets the owner open an account, receive into it and move out of it', async () => {
      const opened = await fx.ledger.submit(fx.ids.bob, 'OpenAccount', 'bob-custody-1');
      expect(expectOk(opened)).toEqual({
        accountId: 'bob-custody-1',
        createdAt: 1_700_000_000,
        owner: fx.ids.bob.account,
      });
      expect(opened.event?.payload).toMatchObject({ type: 'AccountOpened', accountId: 'bob-custody-1' });
      ok(await fx.ledger.submit(fx.ids.alice, 'Transfer', TEST_ISIN, fx.ids.alice.account, 'bob-custody-1', '50'));
      expectRejected(
        await fx.ledger.submit(fx.ids.carol, 'Transfer', TEST_ISIN, 'bob-custody-1', fx.ids.carol.account, '10'),
        'NOT_AUTHORIZED',
      );
      ok(await fx.ledger.submit(fx.ids.bob, 'Transfer', TEST_ISIN, 'bob-custody-1', fx.ids.carol.account, '10'));
      expect(expectOk(await fx.ledger.evaluate(fx.ids.bob, 'Holdings', 'bob-custody-1'))).toEqual([
        { account: 'bob-custody-1', isin: TEST_ISIN, quantity: '40' },
      ]);
    });

    it('rejects reopening an account with ALREADY_EXISTS', async () => {
      ok(await fx.ledger.submit(fx.ids.bob, 'OpenAccount', 'acct-1'));
      expectRejected(await fx.ledger.submit(fx.ids.carol, 'OpenAccount', 'acct-1'), 'ALREADY_EXISTS');
    });
  });

  describe('Holdings', () => {
    it('lists every non-zero balance of an account and drops emptied ones', async () => {
      const isin = 'DE0007164600';
      ok(await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', isin, 'SAP', '1'));
      ok(await fx.ledger.submit(fx.ids.issuer, 'Issue', isin, fx.ids.alice.account, '5'));
      expect(expectOk(await fx.ledger.evaluate(fx.ids.alice, 'Holdings', fx.ids.alice.account))).toEqual([
        { account: fx.ids.alice.account, isin, quantity: '5' },
        { account: fx.ids.alice.account, isin: TEST_ISIN, quantity: '1000' },
      ]);
      ok(await fx.ledger.submit(fx.ids.alice, 'Transfer', isin, fx.ids.alice.account, fx.ids.bob.account, '5'));
      expect(expectOk(await fx.ledger.evaluate(fx.ids.alice, 'Holdings', fx.ids.alice.account))).toEqual([
        { account: fx.ids.alice.account, isin: TEST_ISIN, quantity: '1000' },
      ]);
    });
  });
});
