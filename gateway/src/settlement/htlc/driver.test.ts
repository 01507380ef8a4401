import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { actorOf } from '../../../testing/engine-fakes';
import type { Trade } from '../../core/trade';
import type { Party } from './__tests__/gateways';
import type { Crash } from './__tests__/memory-htlc';
import { addr, AMOUNT, CASH, EUR, QTY, SEC, SHARES, T_F, T_L, DELTA, World } from './__tests__/world';
import { createHtlcMode } from './driver';
import { HTLC_EVENTS } from './progress';
import { createSecretStore } from '../../store/secrets';
import { newSecret } from './secrets';
import { HtlcConfigError, type TradeSide } from './terms';
import { openStore } from '../../store';

const events = (t: Trade): string[] => t.timeline.map((s) => s.event);
const SETTLED = { sellerShares: SHARES - QTY, buyerShares: QTY, buyerCash: CASH - AMOUNT, sellerCash: AMOUNT };
const UNTOUCHED = { sellerShares: SHARES, buyerShares: 0n, buyerCash: CASH, sellerCash: 0n };

/**
 * Runs a trade until the follower (BUYER) has locked, stops the follower, and only then lets the
 * leader hear of its lock, so the leader reveals the preimage while the follower is down.
 */
async function revealWhileFollowerDown(w: World): Promise<void> {
  const seller = w.pair.gw('SELLER').engine;
  w.pair.hub.register('SELLER', {
    onMessage: async (m) => (m.type === 'lock_notice' ? undefined : seller.onMessage(m)),
  });
  w.pair.eventsTo.delete('SELLER');
  await w.pair.trade('T-1');
  const buyerLock = async (): Promise<Readonly<Record<string, string>> | undefined> =>
    (await w.pair.gw('BUYER').engine.get('T-1')).timeline.find((s) => s.event === HTLC_EVENTS.locked)?.detail;
  await w.pair.until(async () => (await buyerLock()) !== undefined, 'the follower lock');
  const { lockId = '', hashlock = '' } = (await buyerLock()) ?? {};
  await w.pair.stop('BUYER');
  w.pair.hub.register('SELLER', seller);
  w.pair.eventsTo.add('SELLER');
  const buyerGateway = w.pair.hub.messengerFor(actorOf('BUYER', 'gateway'));
  await buyerGateway.send('SELLER', { tradeId: 'T-1', type: 'lock_notice', body: { lockId, hashlock } });
  await w.pair.until(() => w.evm.count('claim') === 1, 'the leader claim');
}

describe('HTLC settlement mode', () => {
  let w: World;
  afterEach(async () => {
    await w?.close();
  });

  describe('configuration', () => {
    it('rejects T_L < T_F + Δ at start-up, naming the three values', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'dvp-htlc-cfg-'));
      const store = openStore(path.join(dir, 'g.sqlite'), { party: 'SELLER' });
      const make = (): unknown =>
        createHtlcMode({
          leader: 'seller',
          timelocks: { leaderSeconds: 4199, followerSeconds: 3600, deltaSeconds: 600 },
          addressOf: addr,
          assets: { securities: (i) => i, cash: (c) => c },
          messenger: { send: () => Promise.resolve() },
          secrets: createSecretStore(store, newSecret),
        });
      expect(make).toThrow(HtlcConfigError);
      expect(make).toThrow('T_L (4199 s) must be at least T_F (3600 s) + Δ (600 s)');
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
  });

  describe('happy path', () => {
    it.each<TradeSide>(['seller', 'buyer'])('settles both legs exactly once with the %s leading', async (leader) => {
      w = new World(leader);
      await w.pair.trade('T-1');
      const final = await w.pair.final('T-1');
      expect(final.BUYER).toMatchObject({ status: 'settled' });
      expect(final.SELLER).toMatchObject({ status: 'settled' });
      expect(w.balances()).toEqual(SETTLED);
      expect(w.fabric.broadcasts.map((b) => b.kind)).toEqual(['lock', 'claim']);
      expect(w.evm.broadcasts.map((b) => b.kind)).toEqual(['lock', 'claim']);
      const leaderParty: Party = leader === 'seller' ? 'SELLER' : 'BUYER';
      const followerParty: Party = leader === 'seller' ? 'BUYER' : 'SELLER';
      // The follower's notice may arrive while the leader is still recording that it sent its own.
      const leaderEvents = events(final[leaderParty]);
      expect(leaderEvents.filter((e) => e !== HTLC_EVENTS.noticeSent && e !== HTLC_EVENTS.notice)).toEqual([
        'received',
        'matched',
        HTLC_EVENTS.started,
        HTLC_EVENTS.locked,
        HTLC_EVENTS.verified,
        HTLC_EVENTS.claimed,
        HTLC_EVENTS.settled,
      ]);
      expect(leaderEvents.indexOf(HTLC_EVENTS.notice)).toBeLessThan(leaderEvents.indexOf(HTLC_EVENTS.verified));
      expect(leaderEvents.filter((e) => e === HTLC_EVENTS.noticeSent)).toHaveLength(1);
      // The leader's notice may reach the follower before the follower's trade is matched.
      expect(events(final[followerParty])).toContain('matched');
      expect(events(final[followerParty]).filter((e) => e !== 'matched')).toEqual([
        'received',
        HTLC_EVENTS.notice,
        HTLC_EVENTS.verified,
        HTLC_EVENTS.started,
        HTLC_EVENTS.locked,
        HTLC_EVENTS.noticeSent,
        HTLC_EVENTS.claimed,
        HTLC_EVENTS.settled,
      ]);
      const locked = final[leaderParty].timeline.find((s) => s.event === HTLC_EVENTS.locked);
      expect(locked).toMatchObject({ status: 'pending', ledger: leader === 'seller' ? 'fabric' : 'evm' });
      expect(Number(locked?.detail?.['expiry'])).toBe(w.t + T_L);
      w.expectConserved();
      await w.expectAuditOk();
      const audit = await w.pair.gw('BUYER').engine.audit({ tradeId: 'T-1' });
      expect(audit.entries.map((e) => e.event)).toEqual(events(final.BUYER).map((e) => `trade.${e}`));
    });

    it('settles 5 trades concurrently', async () => {
      w = new World('seller');
      const ids = ['C-1', 'C-2', 'C-3', 'C-4', 'C-5'];
      await Promise.all(ids.map((id) => w.pair.trade(id)));
      const finals = await Promise.all(ids.map((id) => w.pair.final(id)));
      for (const f of finals) expect([f.BUYER.status, f.SELLER.status]).toEqual(['settled', 'settled']);
      expect(w.balances()).toEqual({
        sellerShares: SHARES - 5n * QTY,
        buyerShares: 5n * QTY,
        buyerCash: CASH - 5n * AMOUNT,
        sellerCash: 5n * AMOUNT,
      });
      expect([w.fabric.count('lock'), w.fabric.count('claim'), w.evm.count('lock'), w.evm.count('claim')]).toEqual([
        5, 5, 5, 5,
      ]);
    });
  });

  describe('timeout', () => {
    it.each(['loses every lock notice', 'is unreachable'])(
      'refunds both legs when the leader never claims because its gateway %s',
      async (how) => {
        w = new World('seller');
        // The leader never learns of the follower's lock: its notices are lost and it sees no events.
        const seller = w.pair.gw('SELLER').engine;
        const unreachable = (): Promise<void> => Promise.reject(new Error('SELLER unreachable'));
        w.pair.hub.register('SELLER', {
          onMessage: async (m) =>
            how === 'is unreachable' ? unreachable() : m.type === 'lock_notice' ? undefined : seller.onMessage(m),
        });
        w.pair.eventsTo.delete('SELLER');
        await w.pair.trade('T-1');
        await w.pair.until(() => w.evm.count('lock') === 1, 'the follower lock');
        const start = w.t;
        w.t = start + T_F - 1;
        await new Promise((r) => setTimeout(r, 50));
        expect(w.evm.count('refund')).toBe(0); // not before T_F
        w.t = start + T_F;
        await w.pair.until(async () => (await w.pair.gw('BUYER').engine.get('T-1')).status === 'failed', 'F');
        expect(w.fabric.count('refund')).toBe(0); // the leader waits for T_L
        w.t = start + T_L;
        const final = await w.pair.final('T-1');
        expect(final.BUYER).toMatchObject({ status: 'failed', reason: 'timeout' });
        expect(final.SELLER).toMatchObject({ status: 'failed', reason: 'timeout' });
        expect(w.balances()).toEqual(UNTOUCHED);
        expect([
          w.fabric.count('refund'),
          w.evm.count('refund'),
          w.fabric.count('claim'),
          w.evm.count('claim'),
        ]).toEqual([1, 1, 0, 0]);
        w.expectConserved();
        await w.expectAuditOk();
      },
    );
  });

  describe('follower verification', () => {
    const cases: readonly [string, Record<string, unknown>, string, string][] = [
      ['a wrong amount', { amount: QTY - 1n }, 'lock_mismatch', 'amount'],
      ['a wrong receiver', { receiver: 'mallory@fabric' }, 'lock_mismatch', 'receiver'],
      ['a hashlock other than announced', { hashlock: newSecret().hashlock }, 'lock_mismatch', 'hashlock'],
      ['an expiry shorter than T_F + Δ', { expiry: -1 }, 'timelock_too_short', 'expiry'],
    ];
    it.each(cases)('refuses to lock on %s', async (_name, tamper, reason, field) => {
      w = new World('seller');
      await w.pair.trade('T-1', {}, ['BUYER']); // the seller's side is played by hand below
      const { hashlock } = newSecret();
      const terms = {
        receiver: addr('BUYER', 'fabric'),
        asset: SEC,
        amount: QTY,
        hashlock,
        expiry: w.t + T_F + DELTA + 1,
        ...tamper,
      };
      if (terms.expiry === -1) terms.expiry = w.t + T_F + DELTA - 1;
      const { lockId } = await w.fabric
        .connector(addr('SELLER', 'fabric'))
        .lock(terms as typeof terms & { expiry: number });
      const messenger = w.pair.hub.messengerFor(actorOf('SELLER', 'gateway'));
      await messenger.send('BUYER', { tradeId: 'T-1', type: 'lock_notice', body: { lockId, hashlock } });
      await w.pair.until(async () => (await w.pair.gw('BUYER').engine.get('T-1')).status === 'failed', 'refusal');
      const trade = await w.pair.gw('BUYER').engine.get('T-1');
      expect(trade).toMatchObject({ status: 'failed', reason });
      expect(trade.timeline.at(-1)).toMatchObject({
        event: HTLC_EVENTS.failed,
        detail: expect.objectContaining({ field, lockId }),
      });
      expect(w.evm.count('lock')).toBe(0);
      expect(w.pair.gw('BUYER').store.journal.forTrade('T-1')).toEqual([]);
    });
  });

  describe('leader verification', () => {
    it('does not reveal the secret for a follower lock with wrong terms, and refunds at T_L', async () => {
      w = new World('seller');
      await w.pair.trade('T-1', {}, ['SELLER']); // the buyer's side is played by hand below
      const leaderLocked = (): boolean => w.fabric.count('lock') === 1;
      await w.pair.until(leaderLocked, 'the leader lock');
      const { hashlock } = [...w.fabric.locks.values()][0] ?? { hashlock: '' };
      const buyerCash = w.evm.connector(addr('BUYER', 'evm'));
      const terms = { receiver: addr('SELLER', 'evm'), asset: EUR, amount: AMOUNT - 1n, hashlock, expiry: w.t + T_F };
      const { lockId } = await buyerCash.lock(terms);
      const messenger = w.pair.hub.messengerFor(actorOf('BUYER', 'gateway'));
      await messenger.send('SELLER', { tradeId: 'T-1', type: 'lock_notice', body: { lockId, hashlock } });
      const seller = (): Promise<Trade> => w.pair.gw('SELLER').engine.get('T-1');
      await w.pair.until(async () => events(await seller()).includes(HTLC_EVENTS.rejected), 'the rejection');
      expect((await seller()).timeline.at(-1)?.detail).toMatchObject({ lockId, field: 'amount' });
      w.t += T_L;
      await w.pair.until(async () => (await seller()).status === 'failed', 'the refund');
      expect(await seller()).toMatchObject({ status: 'failed', reason: 'timeout' });
      expect([w.evm.count('claim'), w.fabric.count('refund')]).toEqual([0, 1]);
      expect(w.evm.locks.get(lockId)?.state).toBe('locked'); // the buyer refunds its own lock at T_F
    });

    it.each([
      ['Δ or less', DELTA, 0],
      ['more than Δ', DELTA + 1, 1],
    ])(
      'claims a good follower lock only while more than Δ remains before its expiry (%s left: %i claims)',
      async (_left, left, claims) => {
        // A claim that lands after the expiry is refused, yet it has shown the preimage (model/htlc.pml).
        w = new World('seller');
        await w.pair.trade('T-1', {}, ['SELLER']); // the buyer's side is played by hand below
        await w.pair.until(() => w.fabric.count('lock') === 1, 'the leader lock');
        const { hashlock } = [...w.fabric.locks.values()][0] ?? { hashlock: '' };
        const terms = { receiver: addr('SELLER', 'evm'), asset: EUR, amount: AMOUNT, hashlock, expiry: w.t + left };
        const { lockId } = await w.evm.connector(addr('BUYER', 'evm')).lock(terms);
        const messenger = w.pair.hub.messengerFor(actorOf('BUYER', 'gateway'));
        await messenger.send('SELLER', { tradeId: 'T-1', type: 'lock_notice', body: { lockId, hashlock } });
        const seller = (): Promise<Trade> => w.pair.gw('SELLER').engine.get('T-1');
        await w.pair.until(async () => events(await seller()).includes(HTLC_EVENTS.verified), 'the verification');
        if (claims === 1) await w.pair.until(() => w.evm.count('claim') === 1, 'the leader claim');
        await new Promise((r) => setTimeout(r, 50));
        expect(w.evm.count('claim')).toBe(claims);
        if (claims === 0) {
          w.t += T_L;
          await w.pair.until(async () => (await seller()).status === 'failed', 'the refund');
          expect(await seller()).toMatchObject({ status: 'failed', reason: 'timeout' });
          expect(w.fabric.count('refund')).toBe(1);
        }
      },
    );

    it('ignores settlement messages from anyone but the counterparty', async () => {
      w = new World('seller');
      await w.pair.trade('T-1', {}, ['BUYER']);
      const mallory = w.pair.hub.messengerFor(actorOf('MALLORY', 'gateway'));
      await mallory.send('BUYER', { tradeId: 'T-1', type: 'lock_notice', body: { lockId: 'x', hashlock: 'y' } });
      expect(events(await w.pair.gw('BUYER').engine.get('T-1'))).toEqual(['received', 'matched']);
    });
  });

  describe('follower liveness', () => {
    it('records the loss of a follower that stays down past T_L (the known weakness of HTLC)', async () => {
      w = new World('seller');
      await revealWhileFollowerDown(w);
      w.t += T_L;
      const seller = (): Promise<Trade> => w.pair.gw('SELLER').engine.get('T-1');
      await w.pair.until(async () => (await seller()).status === 'failed', 'the leader refund');
      expect(await seller()).toMatchObject({ reason: 'follower_missed_claim' });
      await w.pair.restart('BUYER');
      const final = await w.pair.final('T-1');
      expect(final.BUYER).toMatchObject({ status: 'failed', reason: 'claim_window_missed' });
      expect(w.balances()).toEqual({ ...UNTOUCHED, buyerCash: CASH - AMOUNT, sellerCash: AMOUNT });
      w.expectConserved();
    });
  });

  describe('lock failure', () => {
    it('fails the leader whose lock the ledger refuses, and the follower at the deadline without locking', async () => {
      w = new World('buyer');
      const deadline = w.t + 100;
      await w.pair.trade('T-1', { quantity: 1_000_000n, settlementDeadline: deadline }); // more cash than the buyer has
      const trade = (p: Party): Promise<Trade> => w.pair.gw(p).engine.get('T-1');
      await w.pair.until(async () => (await trade('BUYER')).status === 'failed', 'the leader failure');
      expect(await trade('BUYER')).toMatchObject({ reason: 'lock_failed' });
      expect((await trade('BUYER')).timeline.at(-1)?.detail).toEqual({ code: 'INSUFFICIENT_BALANCE' });
      expect((await trade('SELLER')).status).toBe('matched');
      w.t = deadline;
      await w.pair.until(async () => (await trade('SELLER')).status === 'failed', 'the follower deadline');
      expect(await trade('SELLER')).toMatchObject({ reason: 'timeout' });
      expect(w.broadcasts()).toEqual([]);
      expect(w.balances()).toEqual(UNTOUCHED);
    });
  });

  describe('restart', () => {
    it.each<Crash['point']>(['before-prepare', 'after-prepare', 'after-broadcast'])(
      'resumes a leader killed %s of its lock and settles without locking twice',
      async (point) => {
        w = new World('seller');
        const seller = addr('SELLER', 'fabric');
        w.fabric.crash = { signer: seller, kind: 'lock', point, then: () => void w.pair.gw('SELLER').mode.close() };
        await w.pair.trade('T-1');
        await w.pair.until(() => w.pair.gw('SELLER').store.journal.unfinished().length === 1, 'the journaled lock');
        await w.pair.restart('SELLER');
        const final = await w.pair.final('T-1');
        expect([final.BUYER.status, final.SELLER.status]).toEqual(['settled', 'settled']);
        expect(w.fabric.count('lock', seller)).toBe(1);
        expect(events(final.SELLER).filter((e) => e === HTLC_EVENTS.locked)).toHaveLength(1);
        expect([w.fabric.count('claim'), w.evm.count('lock'), w.evm.count('claim')]).toEqual([1, 1, 1]);
        expect(w.balances()).toEqual(SETTLED);
        await w.expectAuditOk();
      },
    );

    it.each<Crash['point']>(['before-prepare', 'after-broadcast'])(
      'resumes a follower killed %s of its claim, after the reveal, without claiming twice',
      async (point) => {
        w = new World('seller');
        const buyer = addr('BUYER', 'fabric');
        w.fabric.crash = { signer: buyer, kind: 'claim', point, then: () => void w.pair.gw('BUYER').mode.close() };
        await w.pair.trade('T-1');
        await w.pair.until(() => w.pair.gw('BUYER').store.journal.unfinished().length === 1, 'the journaled claim');
        expect(w.evm.count('claim')).toBe(1); // the preimage is revealed on the cash ledger
        await w.pair.restart('BUYER');
        const final = await w.pair.final('T-1');
        expect([final.BUYER.status, final.SELLER.status]).toEqual(['settled', 'settled']);
        expect(w.fabric.count('claim', buyer)).toBe(1);
        expect(w.balances()).toEqual(SETTLED);
        await w.expectAuditOk();
      },
    );

    it('lets a follower that was down during the reveal read the preimage from the ledger and claim', async () => {
      w = new World('seller');
      await revealWhileFollowerDown(w);
      expect(w.fabric.count('claim')).toBe(0);
      await w.pair.restart('BUYER');
      const final = await w.pair.final('T-1');
      expect([final.BUYER.status, final.SELLER.status]).toEqual(['settled', 'settled']);
      expect([w.fabric.count('claim'), w.evm.count('claim'), w.fabric.count('lock'), w.evm.count('lock')]).toEqual([
        1, 1, 1, 1,
      ]);
      expect(w.balances()).toEqual(SETTLED);
    });
  });
});
