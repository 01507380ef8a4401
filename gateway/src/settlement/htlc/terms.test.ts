import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LockView } from '../../ledger/connector';
import { openStore } from '../../store';
import { instructionOf } from '../../../testing/engine-fakes';
import type { Trade } from '../../core/trade';
import { createSecretStore } from '../../store/secrets';
import { hashlockOf, isPreimageOf, newSecret } from './secrets';
import { assertTimelocks, HtlcConfigError, planOf, verifyLock, type HtlcConfig } from './terms';

const config: HtlcConfig = {
  leader: 'seller',
  timelocks: { leaderSeconds: 7200, followerSeconds: 3600, deltaSeconds: 600 },
  addressOf: (party, ledger) => `${party}@${ledger}`,
  assets: { securities: (isin) => `sec:${isin}`, cash: (ccy) => `cash:${ccy}` },
};

function tradeOf(owner: string, side: 'buy' | 'sell'): Trade {
  const counterparty = owner === 'BUYER' ? 'SELLER' : 'BUYER';
  const instruction = instructionOf({ side, counterparty, quantity: 7n, price: 300n });
  return { tradeId: 'T-1', owner, instruction, status: 'matched', createdAt: '', updatedAt: '', timeline: [] };
}

/** Securities on Fabric, cash on the EVM (the connectors' ledgers in the real wiring). */
const LEDGERS = (leg: 'securities' | 'cash'): 'fabric' | 'evm' => (leg === 'securities' ? 'fabric' : 'evm');

describe('HTLC terms', () => {
  describe('planOf', () => {
    it('gives the seller the securities leg and the buyer quantity × price of cash', () => {
      const seller = planOf(config, tradeOf('SELLER', 'sell'), LEDGERS);
      expect(seller).toEqual({
        role: 'leader',
        counterparty: 'BUYER',
        mine: {
          name: 'securities',
          ledger: 'fabric',
          asset: 'sec:US0378331005',
          amount: 7n,
          sender: 'SELLER@fabric',
          receiver: 'BUYER@fabric',
        },
        theirs: {
          name: 'cash',
          ledger: 'evm',
          asset: 'cash:EUR',
          amount: 2100n,
          sender: 'BUYER@evm',
          receiver: 'SELLER@evm',
        },
      });
      const buyer = planOf(config, tradeOf('BUYER', 'buy'), LEDGERS);
      expect(buyer).toMatchObject({ role: 'follower', mine: seller.theirs, theirs: seller.mine });
    });

    it('makes the buyer the leader when configured so', () => {
      expect(planOf({ ...config, leader: 'buyer' }, tradeOf('BUYER', 'buy'), LEDGERS).role).toBe('leader');
    });
  });

  describe('assertTimelocks', () => {
    it('accepts T_L = T_F + Δ and refuses one second less, or fractional seconds', () => {
      expect(() => assertTimelocks({ leaderSeconds: 4200, followerSeconds: 3600, deltaSeconds: 600 })).not.toThrow();
      expect(() => assertTimelocks({ leaderSeconds: 4199, followerSeconds: 3600, deltaSeconds: 600 })).toThrow(
        HtlcConfigError,
      );
      expect(() => assertTimelocks({ leaderSeconds: 10.5, followerSeconds: 3, deltaSeconds: 1 })).toThrow(
        'whole seconds',
      );
    });
  });

  describe('verifyLock', () => {
    const leg = {
      name: 'cash' as const,
      ledger: 'evm' as const,
      asset: '0xAbC',
      amount: 5n,
      sender: '0xDEF',
      receiver: '0x123',
    };
    const view: LockView = {
      lockId: '0x01',
      sender: '0xdef',
      receiver: '0x123',
      asset: '0xabc',
      amount: 5n,
      hashlock: '0xAA',
      expiry: 1000,
      state: 'locked',
    };

    it('accepts the same terms whatever the hex case and 0x prefix', () => {
      expect(verifyLock(view, { leg, hashlock: 'aa', minExpiry: 1000, maxExpiry: 1000 })).toEqual({
        ok: true,
        lock: view,
      });
    });

    it.each([
      ['state', { state: 'claimed' as const }, 'lock_mismatch'],
      ['sender', { sender: '0x999' }, 'lock_mismatch'],
      ['asset', { asset: '0x999' }, 'lock_mismatch'],
      ['amount', { amount: 6n }, 'lock_mismatch'],
      ['expiry', { expiry: 999 }, 'timelock_too_short'],
    ])('names the first wrong field: %s', (field, change, reason) => {
      expect(verifyLock({ ...view, ...change }, { leg, hashlock: 'aa', minExpiry: 1000 })).toMatchObject({
        ok: false,
        reason,
        field,
      });
    });

    it('refuses an expiry beyond the maximum as a mismatch', () => {
      expect(verifyLock(view, { leg, hashlock: 'aa', maxExpiry: 999 })).toMatchObject({ ok: false, field: 'expiry' });
    });

    describe('on Fabric', () => {
      const buyer = 'BuyerBankMSP:/OU=buyer/OU=client/CN=gateway';
      const fabricLeg = {
        ...leg,
        name: 'securities' as const,
        ledger: 'fabric' as const,
        asset: 'US0378331005',
        receiver: buyer,
      };
      const fabricView: LockView = { ...view, lockId: 'htlc:seller:T-1', asset: 'US0378331005', receiver: buyer };

      it('accepts the receiver’s exact account', () => {
        expect(verifyLock(fabricView, { leg: fabricLeg, hashlock: 'aa' })).toMatchObject({ ok: true });
      });

      it.each([
        ['lower-cased', buyer.toLowerCase()],
        ['0x-prefixed and lower-cased', `0x${buyer.toLowerCase()}`],
        ['with another CN case', buyer.replace('CN=gateway', 'CN=Gateway')],
      ])('refuses a lock to the receiver’s account %s: an account nobody holds', (_how, receiver) => {
        expect(verifyLock({ ...fabricView, receiver }, { leg: fabricLeg, hashlock: 'aa' })).toEqual({
          ok: false,
          reason: 'lock_mismatch',
          field: 'receiver',
          expected: buyer,
          actual: receiver,
        });
      });
    });
  });

  describe('secrets', () => {
    it('keeps one 32-byte secret per trade across a reopen, hashed with SHA-256', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'dvp-secrets-'));
      const file = path.join(dir, 'g.sqlite');
      let store = openStore(file, { party: 'SELLER' });
      const first = createSecretStore(store, newSecret).secretFor('T-1');
      store.close();
      store = openStore(file, { party: 'SELLER' });
      const secrets = createSecretStore(store, newSecret);
      expect(secrets.secretFor('T-1')).toEqual(first);
      expect(secrets.secretFor('T-2')).not.toEqual(first);
      expect(first.preimage).toMatch(/^0x[0-9a-f]{64}$/);
      expect(first.hashlock).toBe(hashlockOf(first.preimage));
      expect(hashlockOf(`0x${'00'.repeat(32)}`)).toBe(
        '0x66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925',
      );
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it.each(['zz', '0', '00', ' '])(
      "refuses to hash a preimage with '%s' appended (hex decoding would stop there)",
      (tail) => {
        const preimage = `0x${'ab'.repeat(32)}`;
        expect(() => hashlockOf(`${preimage}${tail}`)).toThrow(
          new TypeError('an HTLC preimage must be exactly 32 bytes of hex'),
        );
        expect(isPreimageOf(`${preimage}${tail}`, hashlockOf(preimage))).toBe(false);
        expect(isPreimageOf(preimage.slice(2).toUpperCase(), hashlockOf(preimage).toUpperCase())).toBe(true);
      },
    );
  });
});
