import './testing/quiet';

import { beforeAll, describe, expect, it } from '@jest/globals';
import { Context } from 'fabric-contract-api';
import { ClientIdentity, type ChaincodeStub } from 'fabric-shim';

// The gateway's account of an identity; by relative path as the chaincode does not depend on @dvp/certs.
import { fabricAccountId } from '../../../certs/src/fabric-id';
import { callerOf } from './identity';
import { TestCa, type IdentitySpec, type TestIdentity } from './testing/certs';

/** A transaction context whose identity is fabric-shim's own ClientIdentity, as on a peer. */
function contextOf(identity: TestIdentity): Context {
  const stub = {
    getChannelID: () => 'dvp',
    getTxID: () => 'tx-identity',
    getCreator: () => ({ mspid: identity.mspId, idBytes: Buffer.from(identity.certPem, 'utf8') }),
  };
  const ctx = new Context();
  ctx.clientIdentity = new ClientIdentity(stub as unknown as ChaincodeStub);
  return ctx;
}

describe('callerOf', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await TestCa.create();
  });

  describe('account', () => {
    const SPECS: readonly (readonly [string, IdentitySpec])[] = [
      ['type + affiliation in one RDN', { mspId: 'SellerBankMSP', cn: 'trader', ous: ['client', 'seller'] }],
      ['an affiliation sorted before the type', { mspId: 'BuyerBankMSP', cn: 'trader', ous: ['client', 'buyer'] }],
      ['a dotted affiliation', { mspId: 'SellerBankMSP', cn: 'op1', ous: ['client', 'seller', 'operations'] }],
      ['a CN with one slash', { mspId: 'SellerBankMSP', cn: 'desk/one', ous: ['client', 'seller'] }],
      ['a CN with two slashes', { mspId: 'SellerBankMSP', cn: 'desk/one/two', ous: ['client', 'seller'] }],
      ['no OU', { mspId: 'SellerBankMSP', cn: 'nobody' }],
    ];

    it.each(SPECS)('is the account the gateway computes (fabricAccountId) for %s', async (_name, spec) => {
      const identity = await ca.issue(spec);
      expect(callerOf(contextOf(identity)).account).toBe(fabricAccountId(spec.mspId, identity.certPem));
      expect(identity.account).toBe(fabricAccountId(spec.mspId, identity.certPem));
    });

    it('lists the OUs of the RDN one by one, in DER order, and escapes only the first slash of the CN', async () => {
      const trader = await ca.issue({ mspId: 'BuyerBankMSP', cn: 'desk/one/two', ous: ['client', 'buyer'] });
      expect(callerOf(contextOf(trader))).toMatchObject({
        subject: '/OU=buyer/OU=client/CN=desk\\/one/two',
        account: 'BuyerBankMSP:/OU=buyer/OU=client/CN=desk\\/one/two',
      });
    });
  });

  describe('roles', () => {
    it('takes every OU of a multi-valued RDN (OU=client + OU=seller gives client and seller)', async () => {
      const trader = await ca.issue({ mspId: 'SellerBankMSP', cn: 'trader', ous: ['client', 'seller'] });
      expect(callerOf(contextOf(trader)).roles).toEqual(['client', 'seller']);
    });

    it('adds the role attribute to the OUs of the RDN', async () => {
      const csd = await ca.issue({ mspId: 'CsdMSP', cn: 'csd', ous: ['client', 'csd'], attrs: { role: 'issuer' } });
      expect(callerOf(contextOf(csd)).roles).toEqual(['client', 'csd', 'issuer']);
    });
  });
});
