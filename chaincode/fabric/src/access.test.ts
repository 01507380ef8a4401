import './testing/quiet';

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';

import { canonicalJson } from './canonical';
import { SecuritiesContract } from './contract';
import { DEFAULT_POLICY } from './policy';
import { TestLedger } from './testing/harness';
import { expectOk, expectRejected } from './testing/expect';
import { makeFixture, ok, seed, TEST_ISIN } from './testing/fixture';
import type { Fixture } from './testing/fixture';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});

const POLICY = {
  public: ['BalanceOf', 'GetPolicy'],
  roles: { admin: ['ProposePolicy', 'ApprovePolicy'], issuer: ['CreateInstrument', 'Issue'] },
  roleMsps: { issuer: ['CsdMSP'] },
};

describe('access control', () => {
  describe('roles', () => {
    it('takes a role from a subject OU as well as from the CA attribute', async () => {
      const byOu = await fx.ca.issue({ mspId: 'CsdMSP', cn: 'registrar-2', ous: ['issuer'] });
      ok(await fx.ledger.submit(byOu, 'CreateInstrument', TEST_ISIN, 'Apple', '1'));
    });

    it('takes every OU of a multi-valued RDN, as Fabric CA writes them (OU=client+OU=issuer)', async () => {
      const multi = await fx.ca.issue({ mspId: 'CsdMSP', cn: 'registrar-3', ous: ['client', 'issuer'] });
      ok(await fx.ledger.submit(multi, 'CreateInstrument', TEST_ISIN, 'Apple', '1'));
    });

    it('does not read an OU smuggled into another attribute value (CN=mallory/OU=admin)', async () => {
      const mallory = await fx.ca.issue({ mspId: 'BuyerBankMSP', cn: 'mallory/OU=admin', ous: ['client'] });
      const forged = await fx.ca.issue({ mspId: 'BuyerBankMSP', cn: 'forger/x/OU=issuer' });
      expectRejected(
        await fx.ledger.submit(mallory, 'ProposePolicy', JSON.stringify({ public: ['*'], roles: {} })),
        'NOT_AUTHORIZED',
        { transaction: 'ProposePolicy', roles: 'client' },
      );
      expectRejected(await fx.ledger.submit(forged, 'CreateInstrument', TEST_ISIN, 'Apple', '1'), 'NOT_AUTHORIZED', {
        transaction: 'CreateInstrument',
        roles: '',
      });
    });

    it('lets an identity without roles call public queries only', async () => {
      const nobody = await fx.ca.issue({ mspId: 'SellerBankMSP', cn: 'nobody' });
      await seed(fx, 10n);
      expectOk(await fx.ledger.evaluate(nobody, 'BalanceOf', TEST_ISIN, nobody.account));
      expectRejected(
        await fx.ledger.submit(nobody, 'Transfer', TEST_ISIN, nobody.account, fx.ids.bob.account, '1'),
        'NOT_AUTHORIZED',
        { transaction: 'Transfer', mspId: 'SellerBankMSP', roles: '' },
      );
    });
  });

  describe('accounts bound to identities', () => {
    it('keeps the account when the same subject is re-enrolled with a new key', async () => {
      await seed(fx, 10n);
      const reenrolled = await fx.ca.issue({ mspId: 'SellerBankMSP', cn: 'alice', ous: ['client', 'seller'] });
      expect(reenrolled.certPem).not.toBe(fx.ids.alice.certPem);
      ok(await fx.ledger.submit(reenrolled, 'Transfer', TEST_ISIN, fx.ids.alice.account, fx.ids.bob.account, '4'));
    });

    it('separates the same subject in another MSP', async () => {
      await seed(fx, 10n);
      const impostor = await fx.ca.issue({ mspId: 'BuyerBankMSP', cn: 'alice', ous: ['client', 'seller'] });
      expect(impostor.account).not.toBe(fx.ids.alice.account);
      expectRejected(
        await fx.ledger.submit(impostor, 'Transfer', TEST_ISIN, fx.ids.alice.account, impostor.account, '1'),
        'NOT_AUTHORIZED',
      );
    });
  });

  describe('policy on the ledger', () => {
    // The default policy names no governors, so one admin's proposal takes effect at once;
    // governance.test.ts covers policies that several MSPs govern.
    it('is stored by one admin ProposePolicy under the development default, and emits PolicySet', async () => {
      const r = await fx.ledger.submit(fx.ids.admin, 'ProposePolicy', JSON.stringify(POLICY));
      expect(expectOk(r)).toMatchObject({ status: 'ADOPTED', proposer: fx.ids.admin.account });
      expect(r.event?.payload).toMatchObject({ type: 'PolicySet', policy: POLICY, by: fx.ids.admin.account });
      expect((await fx.ledger.evaluate(fx.ids.alice, 'GetPolicy')).payload).toBe(
        '{"public":["BalanceOf","GetPolicy"],"roleMsps":{"issuer":["CsdMSP"]},"roles":{"admin":["ProposePolicy","ApprovePolicy"],"issuer":["CreateInstrument","Issue"]}}',
      );
    });

    it('no longer offers InitLedger or SetPolicy (NOT_FOUND)', async () => {
      for (const fcn of ['InitLedger', 'SetPolicy']) {
        expectRejected(await fx.ledger.submit(fx.ids.admin, fcn, JSON.stringify(POLICY)), 'NOT_FOUND', { fcn });
      }
      expect((await fx.ledger.evaluate(fx.ids.alice, 'GetPolicy')).payload).toBe(canonicalJson(DEFAULT_POLICY));
    });

    it('rejects ProposePolicy by a client with NOT_AUTHORIZED', async () => {
      expectRejected(await fx.ledger.submit(fx.ids.alice, 'ProposePolicy', JSON.stringify(POLICY)), 'NOT_AUTHORIZED', {
        transaction: 'ProposePolicy',
        mspId: 'SellerBankMSP',
      });
    });

    it('honours a role only from the MSPs the policy lists for it', async () => {
      ok(await fx.ledger.submit(fx.ids.admin, 'ProposePolicy', JSON.stringify(POLICY)));
      expectRejected(
        await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', TEST_ISIN, 'Apple', '1'),
        'NOT_AUTHORIZED',
      );
      const csd = await fx.ca.issue({ mspId: 'CsdMSP', cn: 'csd', attrs: { role: 'issuer' } });
      ok(await fx.ledger.submit(csd, 'CreateInstrument', TEST_ISIN, 'Apple', '1'));
    });

    it('rejects an invalid policy with INVALID_ARGUMENT', async () => {
      expectRejected(
        await fx.ledger.submit(fx.ids.admin, 'ProposePolicy', '{"public":["Steal"],"roles":{}}'),
        'INVALID_ARGUMENT',
        { transaction: 'Steal' },
      );
    });
  });

  describe('policy from the environment', () => {
    const saved = process.env['DVP_CHAINCODE_POLICY'];
    afterEach(() => {
      if (saved === undefined) delete process.env['DVP_CHAINCODE_POLICY'];
      else process.env['DVP_CHAINCODE_POLICY'] = saved;
    });

    it('bootstraps from DVP_CHAINCODE_POLICY when the ledger holds none', async () => {
      process.env['DVP_CHAINCODE_POLICY'] = JSON.stringify({ public: [], roles: { client: ['CreateInstrument'] } });
      const ledger = new TestLedger([SecuritiesContract]);
      ok(await ledger.submit(fx.ids.alice, 'CreateInstrument', TEST_ISIN, 'Apple', '1'));
      expectRejected(
        await ledger.evaluate(fx.ids.alice, 'BalanceOf', TEST_ISIN, fx.ids.alice.account),
        'NOT_AUTHORIZED',
      );
    });
  });

  describe('dispatch', () => {
    it('reports an unknown transaction as NOT_FOUND', async () => {
      expectRejected(await fx.ledger.submit(fx.ids.alice, 'Mint', '1'), 'NOT_FOUND', { fcn: 'Mint' });
    });

    it('accepts the contract-qualified name securities:<fcn>', async () => {
      await seed(fx, 5n);
      expect(
        (await fx.ledger.evaluate(fx.ids.alice, 'securities:BalanceOf', TEST_ISIN, fx.ids.alice.account)).payload,
      ).toBe('5');
    });

    it('rejects a wrong number of arguments before the contract runs (no code)', async () => {
      const r = await fx.ledger.submit(fx.ids.alice, 'BalanceOf', TEST_ISIN);
      expect(r).toMatchObject({ status: 500, message: 'Expected 2 parameters, but 1 have been supplied' });
    });
  });
});
