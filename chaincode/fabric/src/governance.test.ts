import './testing/quiet';

import { createHash } from 'node:crypto';

import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';

import { canonicalJson } from './canonical';
import { SecuritiesContract } from './contract';
import { parsePolicy } from './policy';
import type { TestIdentity } from './testing/certs';
import { expectOk, expectRejected } from './testing/expect';
import { makeFixture } from './testing/fixture';
import type { Fixture } from './testing/fixture';
import { TestLedger } from './testing/harness';

const SELLER = 'SellerBankMSP';
const BUYER = 'BuyerBankMSP';
const REGISTRAR = 'RegistrarMSP';

const GOVERNANCE = ['ProposePolicy', 'ApprovePolicy'];

/** Both banks govern; the registrar's admins are honoured (so they pass the roles check) but do not govern. */
const GOVERNED = {
  public: ['GetPolicy', 'GetPolicyProposal', 'BalanceOf'],
  roles: { admin: GOVERNANCE, issuer: ['CreateInstrument', 'Issue'] },
  roleMsps: { admin: [SELLER, BUYER, REGISTRAR], issuer: [REGISTRAR] },
  governors: [SELLER, BUYER],
};
const NEXT = { ...GOVERNED, public: [...GOVERNED.public, 'History'] };
const THREE = { ...GOVERNED, governors: [SELLER, BUYER, REGISTRAR] };
const WITHOUT_SELLER = { ...GOVERNED, governors: [BUYER, REGISTRAR] };

const canonical = (policy: object): string => canonicalJson(parsePolicy(JSON.stringify(policy)));
const idOf = (policy: object): string => createHash('sha256').update(canonical(policy)).digest('hex');

/** A ledger whose bootstrap policy (DVP_CHAINCODE_POLICY) is `policy`. */
function ledgerWith(policy: object): TestLedger {
  const saved = process.env['DVP_CHAINCODE_POLICY'];
  process.env['DVP_CHAINCODE_POLICY'] = JSON.stringify(policy);
  try {
    return new TestLedger([SecuritiesContract]);
  } finally {
    if (saved === undefined) delete process.env['DVP_CHAINCODE_POLICY'];
    else process.env['DVP_CHAINCODE_POLICY'] = saved;
  }
}

let fx: Fixture;
let sellerAdmin: TestIdentity;
let sellerAdmin2: TestIdentity;
let buyerAdmin: TestIdentity;
let registrarAdmin: TestIdentity;
let client: TestIdentity;
beforeAll(async () => {
  fx = await makeFixture();
  sellerAdmin = await fx.ca.issue({ mspId: SELLER, cn: 'seller-admin', ous: ['admin'] });
  sellerAdmin2 = await fx.ca.issue({ mspId: SELLER, cn: 'seller-admin-2', ous: ['admin'] });
  buyerAdmin = await fx.ca.issue({ mspId: BUYER, cn: 'buyer-admin', ous: ['admin'] });
  registrarAdmin = await fx.ca.issue({ mspId: REGISTRAR, cn: 'registrar-admin', ous: ['admin'] });
  client = await fx.ca.issue({ mspId: SELLER, cn: 'seller-client', ous: ['client'] });
});

describe('policy governance', () => {
  let ledger: TestLedger;
  const policyInForce = async (): Promise<string> => (await ledger.evaluate(client, 'GetPolicy')).payload;
  const propose = (who: TestIdentity, policy: object) => ledger.submit(who, 'ProposePolicy', JSON.stringify(policy));
  const approve = (who: TestIdentity, policy: object) => ledger.submit(who, 'ApprovePolicy', idOf(policy));

  describe('with two governing banks', () => {
    beforeEach(() => {
      ledger = ledgerWith(GOVERNED);
    });

    it('keeps the policy in force when one bank admin proposes alone', async () => {
      const r = await propose(sellerAdmin, NEXT);
      expect(expectOk(r)).toMatchObject({ proposalId: idOf(NEXT), status: 'PENDING', pending: [BUYER] });
      expect(r.event?.payload).toMatchObject({
        type: 'PolicyProposed',
        proposalId: idOf(NEXT),
        policy: canonical(NEXT),
        proposer: sellerAdmin.account,
        approvals: [{ mspId: SELLER, approver: sellerAdmin.account, approvedAt: ledger.time }],
        pending: [BUYER],
      });
      expect(await policyInForce()).toBe(canonical(GOVERNED));
      expect(expectOk(await ledger.evaluate(client, 'GetPolicyProposal', idOf(NEXT)))).toMatchObject({
        status: 'PENDING',
        pending: [BUYER],
      });
    });

    it('puts the policy in force when the second bank admin approves, emitting PolicySet', async () => {
      expectOk(await propose(sellerAdmin, NEXT));
      const r = await approve(buyerAdmin, NEXT);
      expect(expectOk(r)).toMatchObject({ status: 'ADOPTED', pending: [] });
      expect(r.event?.payload).toMatchObject({
        type: 'PolicySet',
        policy: NEXT,
        by: buyerAdmin.account,
        proposalId: idOf(NEXT),
        approvals: [
          { mspId: BUYER, approver: buyerAdmin.account },
          { mspId: SELLER, approver: sellerAdmin.account },
        ],
      });
      expect(await policyInForce()).toBe(canonical(NEXT));
      expectRejected(await ledger.evaluate(client, 'GetPolicyProposal', idOf(NEXT)), 'NOT_FOUND', {
        proposalId: idOf(NEXT),
      });
    });

    it('treats proposing a pending policy again as approving it', async () => {
      expectOk(await propose(sellerAdmin, NEXT));
      const r = await propose(buyerAdmin, NEXT);
      expect(expectOk(r)).toMatchObject({ status: 'ADOPTED', proposer: sellerAdmin.account });
      expect(r.event?.name).toBe('PolicySet');
      expect(await policyInForce()).toBe(canonical(NEXT));
    });

    it('refuses an approval from an admin whose MSP does not govern, naming the MSP', async () => {
      expectOk(await propose(sellerAdmin, NEXT));
      expectRejected(await approve(registrarAdmin, NEXT), 'NOT_AUTHORIZED', {
        mspId: REGISTRAR,
        governors: `${SELLER},${BUYER}`,
      });
      expectRejected(await propose(registrarAdmin, THREE), 'NOT_AUTHORIZED', { mspId: REGISTRAR });
      expect(await policyInForce()).toBe(canonical(GOVERNED));
    });

    it('refuses a client, by the roles and by the governance rule', async () => {
      expectOk(await propose(sellerAdmin, NEXT));
      expectRejected(await approve(client, NEXT), 'NOT_AUTHORIZED', {
        transaction: 'ApprovePolicy',
        mspId: SELLER,
        roles: 'client',
      });
      ledger = ledgerWith({ ...GOVERNED, public: ['*'] });
      expectRejected(await propose(client, NEXT), 'NOT_AUTHORIZED', { mspId: SELLER, roles: 'client' });
    });

    it('counts a second approval from the same MSP once', async () => {
      expectOk(await propose(sellerAdmin, NEXT));
      for (const again of [sellerAdmin, sellerAdmin2]) {
        const r = await approve(again, NEXT);
        expect(expectOk(r)).toMatchObject({ status: 'PENDING', pending: [BUYER] });
        expect(r.event?.payload).toMatchObject({ type: 'PolicyApproved', by: again.account });
        expect(r.event?.payload['approvals']).toEqual([
          { mspId: SELLER, approver: sellerAdmin.account, approvedAt: ledger.time },
        ]);
      }
      expect(await policyInForce()).toBe(canonical(GOVERNED));
    });

    it('reports an unknown proposal as NOT_FOUND and a malformed id as INVALID_ARGUMENT', async () => {
      expectRejected(await approve(buyerAdmin, NEXT), 'NOT_FOUND', { proposalId: idOf(NEXT) });
      expectRejected(await ledger.submit(buyerAdmin, 'ApprovePolicy', 'abc'), 'INVALID_ARGUMENT', {
        proposalId: 'abc',
      });
    });

    it('refuses a proposal that no admin could ever change again', async () => {
      const frozen = { ...NEXT, roles: { ...NEXT.roles, admin: ['ProposePolicy'] } };
      expectRejected(await propose(sellerAdmin, frozen), 'INVALID_ARGUMENT', { transaction: 'ApprovePolicy' });
      const noAdmins = { public: [], roles: { admin: GOVERNANCE }, roleMsps: { admin: [] } };
      expectRejected(await propose(sellerAdmin, noAdmins), 'INVALID_ARGUMENT', { role: 'admin' });
    });

    it('refuses a proposal without governors, which would let one admin change the policy alone', async () => {
      const ungoverned = { public: NEXT.public, roles: NEXT.roles };
      expectRejected(await propose(sellerAdmin, ungoverned), 'INVALID_ARGUMENT', { governors: `${SELLER},${BUYER}` });
    });
  });

  describe('with the governors taken from roleMsps.admin', () => {
    const BANKS_ONLY = {
      public: GOVERNED.public,
      roles: GOVERNED.roles,
      roleMsps: { ...GOVERNED.roleMsps, admin: [SELLER, BUYER] },
    };

    it('needs both banks and ignores the admin role of any other MSP', async () => {
      ledger = ledgerWith(BANKS_ONLY);
      expect(expectOk(await propose(sellerAdmin, NEXT))).toMatchObject({ pending: [BUYER] });
      expectRejected(await approve(registrarAdmin, NEXT), 'NOT_AUTHORIZED', {
        transaction: 'ApprovePolicy',
        mspId: REGISTRAR,
      });
      expect(await policyInForce()).toBe(canonical(BANKS_ONLY));
      expect(expectOk(await approve(buyerAdmin, NEXT))).toMatchObject({ status: 'ADOPTED' });
    });
  });

  describe('when the policy changes while a proposal is pending', () => {
    beforeEach(() => {
      ledger = ledgerWith(GOVERNED);
    });

    it('needs the approval of a governor added meanwhile', async () => {
      expectOk(await propose(sellerAdmin, NEXT));
      expectOk(await propose(sellerAdmin, THREE));
      expectOk(await approve(buyerAdmin, THREE));
      expect(await policyInForce()).toBe(canonical(THREE));
      const r = await approve(buyerAdmin, NEXT);
      expect(expectOk(r)).toMatchObject({ status: 'PENDING', pending: [REGISTRAR] });
      expect(await policyInForce()).toBe(canonical(THREE));
      expect(expectOk(await approve(registrarAdmin, NEXT))).toMatchObject({ status: 'ADOPTED' });
      expect(await policyInForce()).toBe(canonical(NEXT));
    });

    it('no longer counts, nor accepts, approvals of an MSP that stopped governing', async () => {
      expectOk(await propose(sellerAdmin, NEXT));
      expectOk(await propose(sellerAdmin, WITHOUT_SELLER));
      expectOk(await approve(buyerAdmin, WITHOUT_SELLER));
      const r = await approve(buyerAdmin, NEXT);
      expect(expectOk(r)).toMatchObject({ status: 'PENDING', pending: [REGISTRAR] });
      expectRejected(await approve(sellerAdmin, NEXT), 'NOT_AUTHORIZED', { mspId: SELLER });
      expect(await policyInForce()).toBe(canonical(WITHOUT_SELLER));
    });
  });

  describe('with the development default policy (no governors)', () => {
    it('lets one admin change the policy in one transaction', async () => {
      ledger = new TestLedger([SecuritiesContract]);
      const r = await propose(registrarAdmin, GOVERNED);
      expect(expectOk(r)).toMatchObject({ proposalId: idOf(GOVERNED), status: 'ADOPTED', pending: [] });
      expect(r.event?.payload).toMatchObject({ type: 'PolicySet', policy: GOVERNED, by: registrarAdmin.account });
      expect(await policyInForce()).toBe(canonical(GOVERNED));
      // From now on, both banks govern.
      expect(expectOk(await propose(sellerAdmin, NEXT))).toMatchObject({ status: 'PENDING' });
    });

    it('refuses a client', async () => {
      ledger = new TestLedger([SecuritiesContract]);
      expectRejected(await propose(client, GOVERNED), 'NOT_AUTHORIZED', {
        transaction: 'ProposePolicy',
        roles: 'client',
      });
    });
  });
});
