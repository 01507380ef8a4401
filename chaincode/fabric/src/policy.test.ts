import { describe, expect, it } from '@jest/globals';

import type { Caller } from './identity';
import { authorize, DEFAULT_POLICY, governorsOf, loadConfig, parsePolicy } from './policy';

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

    it('accepts governors that roleMsps.admin honours', () => {
      const json = '{"public":[],"roles":{},"roleMsps":{"admin":["A","B","C"]},"governors":["B","A"]}';
      expect(parsePolicy(json).governors).toEqual(['B', 'A']);
      expect(parsePolicy('{"public":[],"roles":{},"governors":["A"]}').governors).toEqual(['A']);
    });

    it('still parses a policy stored by an earlier version that names InitLedger and SetPolicy', () => {
      const json = '{"public":["GetPolicy"],"roles":{"admin":["InitLedger","SetPolicy"]}}';
      expect(parsePolicy(json).roles).toEqual({ admin: ['InitLedger', 'SetPolicy'] });
    });

    it.each([
      ['governors that is not a list', '{"public":[],"roles":{},"governors":"A"}', {}],
      ['an empty governors list', '{"public":[],"roles":{},"governors":[]}', {}],
      ['a governor that is not an MSP id', '{"public":[],"roles":{},"governors":["A B"]}', {}],
      ['a governor that is not a string', '{"public":[],"roles":{},"governors":[1]}', {}],
      ['a governor listed twice', '{"public":[],"roles":{},"governors":["A","A"]}', { mspId: 'A' }],
      [
        'a governor whose admins roleMsps ignores',
        '{"public":[],"roles":{},"roleMsps":{"admin":["A"]},"governors":["A","B"]}',
        { mspId: 'B' },
      ],
    ])('rejects %s with INVALID_ARGUMENT', (_why, json, data) => {
      expect(() => parsePolicy(json)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', data }));
    });

    it.each([
      ['invalid JSON', '{'],
      ['a missing public list', '{"roles":{}}'],
      ['an unknown transaction', '{"public":["Mint"],"roles":{}}'],
      ['a role that is not a list', '{"public":[],"roles":{"issuer":"Issue"}}'],
      ['roleMsps that is not an object', '{"public":[],"roles":{},"roleMsps":3}'],
      ['roles that is a list', '{"public":[],"roles":[]}'],
    ])('rejects %s with INVALID_ARGUMENT', (_why, json) => {
      expect(() => parsePolicy(json)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    });
  });

  describe('governorsOf', () => {
    it('takes governors, else roleMsps.admin, else none (one admin suffices)', () => {
      const both = parsePolicy('{"public":[],"roles":{},"roleMsps":{"admin":["A","B"]},"governors":["A"]}');
      expect(governorsOf(both)).toEqual(['A']);
      expect(governorsOf(parsePolicy('{"public":[],"roles":{},"roleMsps":{"admin":["A","B"]}}'))).toEqual(['A', 'B']);
      expect(governorsOf(DEFAULT_POLICY)).toBeUndefined();
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
      expect(() => authorize(policy, caller('M', ['root']), 'ProposePolicy')).not.toThrow();
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
