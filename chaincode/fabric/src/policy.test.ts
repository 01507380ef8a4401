import { describe, expect, it } from '@jest/globals';

import type { Caller } from './identity';
import { authorize, DEFAULT_POLICY, loadConfig, parsePolicy } from './policy';

const caller = (mspId: string, roles: string[]): Caller => ({
  mspId,
  subject: '/CN=x',
  account: `${mspId}:/CN=x`,
  roles,
});

describe('access policy', () => {
  describe('parsePolicy', () => {
    it('accepts a policy with role MSP restrictions', () => {
      const json = '{"public":["BalanceOf"],"roles":{"issuer":["*"]},"roleMsps":{"issuer":["CsdMSP"]}}';
      expect(parsePolicy(json)).toEqual({
        public: ['BalanceOf'],
        roles: { issuer: ['*'] },
        roleMsps: { issuer: ['CsdMSP'] },
      });
    });

    it.each([
      ['invalid JSON', '{'],
      ['a missing public list', '{"roles":{}}'],
      ['an unknown transaction', '{"public":["Mint"],"roles":{}}'],
      ['a role that is not a list', '{"public":[],"roles":{"issuer":"Issue"}}'],
      ['roleMsps that is not an object', '{"public":[],"roles":{},"roleMsps":3}'],
    ])('rejects %s with INVALID_ARGUMENT', (_why, json) => {
      expect(() => parsePolicy(json)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    });
  });

  describe('authorize', () => {
    it('lets anyone call public transactions', () => {
      expect(() => authorize(DEFAULT_POLICY, caller('AnyMSP', []), 'BalanceOf')).not.toThrow();
    });

    it('lets a role call what it lists, and nothing else', () => {
      expect(() => authorize(DEFAULT_POLICY, caller('AnyMSP', ['issuer']), 'Issue')).not.toThrow();
      expect(() => authorize(DEFAULT_POLICY, caller('AnyMSP', ['client']), 'Issue')).toThrow(
        expect.objectContaining({
          code: 'NOT_AUTHORIZED',
          data: { transaction: 'Issue', mspId: 'AnyMSP', roles: 'client' },
        }),
      );
    });

    it('ignores a role presented from an MSP the policy does not trust for it', () => {
      const policy = parsePolicy('{"public":[],"roles":{"issuer":["Issue"]},"roleMsps":{"issuer":["CsdMSP"]}}');
      expect(() => authorize(policy, caller('CsdMSP', ['issuer']), 'Issue')).not.toThrow();
      expect(() => authorize(policy, caller('BankMSP', ['issuer']), 'Issue')).toThrow(
        expect.objectContaining({ code: 'NOT_AUTHORIZED' }),
      );
    });

    it('treats * as every transaction', () => {
      const policy = parsePolicy('{"public":[],"roles":{"root":["*"]}}');
      expect(() => authorize(policy, caller('M', ['root']), 'SetPolicy')).not.toThrow();
    });
  });

  describe('loadConfig', () => {
    it('uses the default policy when DVP_CHAINCODE_POLICY is unset or blank', () => {
      expect(loadConfig({}).bootstrapPolicy).toBe(DEFAULT_POLICY);
      expect(loadConfig({ DVP_CHAINCODE_POLICY: ' ' }).bootstrapPolicy).toBe(DEFAULT_POLICY);
    });

    it('reads DVP_CHAINCODE_POLICY and names it when invalid', () => {
      expect(loadConfig({ DVP_CHAINCODE_POLICY: '{"public":["*"],"roles":{}}' }).bootstrapPolicy.public).toEqual(['*']);
      expect(() => loadConfig({ DVP_CHAINCODE_POLICY: '{"public":["Nope"],"roles":{}}' })).toThrow(
        /^DVP_CHAINCODE_POLICY is invalid: INVALID_ARGUMENT/,
      );
    });
  });
});
