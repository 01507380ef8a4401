import type { SettlementMessage } from '../mode';
import { LedgerError } from '../../ledger/errors';
import { actorOf } from '../../../testing/engine-fakes';
import type { Trade } from '../../core/trade';
import type { Party } from './__tests__/gateways';
import { addr, AMOUNT, CASH, EUR, QTY, SHARES, T_F, T_L, World } from './__tests__/world';
import { HTLC_EVENTS } from './progress';
import { createSecretStore } from '../../store/secrets';
import { newSecret } from './secrets';

const SETTLED = { sellerShares: SHARES - QTY, buyerShares: QTY, buyerCash: CASH - AMOUNT, sellerCash: AMOUNT };

const events = (t: Trade): string[] => t.timeline.map((s) => s.event);
const isDone = (t: Trade): boolean => t.status === 'settled' || t.status === 'failed';
const trade = (w: World, p: Party, tradeId = 'T-1'): Promise<Trade> => w.pair.gw(p).engine.get(tradeId);

/** The detail of the party's own `htlc_locked` step, once it has one. */
async function ownLock(w: World, p: Party): Promise<Readonly<Record<string, string>>> {
  const detail = async (): Promise<Readonly<Record<string, string>> | undefined> =>
    (await trade(w, p)).timeline.find((s) => s.event === HTLC_EVENTS.locked)?.detail;
  await w.pair.until(async () => (await detail()) !== undefined, `the ${p} lock`);
  return (await detail()) ?? {};
}

/**
 * Starts T-1 with the SELLER leading but deaf to the follower's lock (its notice is dropped and
 * the SELLER sees no ledger events); returns once the follower (BUYER) has locked, and a function
 * that lets the leader hear of that lock.
 */
async function untilFollowerLocked(w: World): Promise<() => Promise<void>> {
  const seller = w.pair.gw('SELLER').engine;
  w.pair.hub.register('SELLER', {
    onMessage: async (m) => (m.type === 'lock_notice' ? undefined : seller.onMessage(m)),
  });
  w.pair.eventsTo.delete('SELLER');
  await w.pair.trade('T-1');
  const { lockId = '', hashlock = '' } = await ownLock(w, 'BUYER');
  return async () => {
    w.pair.hub.register('SELLER', seller);
    w.pair.eventsTo.add('SELLER');
    const buyerGateway = w.pair.hub.messengerFor(actorOf('BUYER', 'gateway'));
    await buyerGateway.send('SELLER', { tradeId: 'T-1', type: 'lock_notice', body: { lockId, hashlock } });
  };
}

describe('HTLC settlement mode against a hostile or faulty counterparty', () => {
  let w: World;
  afterEach(async () => {
    await w?.close();
  });

  describe('preimage relay', () => {
    it.each(['zz', '0'])(
      "lets the follower claim when the leader relays its preimage with '%s' appended, again and again",
      async (suffix) => {
        w = new World('seller');
        const { preimage } = createSecretStore(w.pair.gw('SELLER').store, newSecret).secretFor('T-1');
        const bad = `${preimage}${suffix}`;
        // The follower hears of the reveal only by relays, and every relay it gets is malformed.
        const buyer = w.pair.gw('BUYER').engine;
        const tamper = (m: SettlementMessage): SettlementMessage =>
          m.type === 'preimage' ? { ...m, body: { ...m.body, preimage: bad } } : m;
        w.pair.hub.register('BUYER', { onMessage: (m) => buyer.onMessage(tamper(m)) });
        w.pair.eventsTo.delete('BUYER');
        const hearFollower = await untilFollowerLocked(w);
        const leaderGateway = w.pair.hub.messengerFor(actorOf('SELLER', 'gateway'));
        const relay = (): Promise<void> =>
          leaderGateway.send('BUYER', { tradeId: 'T-1', type: 'preimage', body: { preimage: bad } });
        await relay(); // before the leader claims: the follower must not keep it
        const relaying = setInterval(() => void relay().catch(() => undefined), 5);
        try {
          await hearFollower();
          const final = await w.pair.final('T-1', 2_000);
          expect([final.BUYER.status, final.SELLER.status]).toEqual(['settled', 'settled']);
        } finally {
          clearInterval(relaying);
        }
        expect([w.evm.count('claim'), w.fabric.count('claim')]).toEqual([1, 1]);
        expect(w.balances()).toEqual(SETTLED);
        w.expectConserved();
      },
    );
  });

  describe('leader refund', () => {
    const hex32 = `0x${'ab'.repeat(32)}`;
    const notices: readonly [string, (hashlock: string) => Record<string, string>][] = [
      ['a lock id that is not an EVM id', (hashlock) => ({ lockId: 'zz', hashlock })],
      ['an over-long lock id', (hashlock) => ({ lockId: `0x${'ab'.repeat(100)}`, hashlock })],
      ['a malformed hashlock', () => ({ lockId: hex32, hashlock: `${hex32}zz` })],
    ];
    it.each(notices)('drops a lock notice with %s unrecorded, and refunds at T_L', async (_name, bodyOf) => {
      w = new World('seller');
      await w.pair.trade('T-1', {}, ['SELLER']); // the buyer's side is played by hand below
      const { hashlock = '' } = await ownLock(w, 'SELLER');
      const buyerGateway = w.pair.hub.messengerFor(actorOf('BUYER', 'gateway'));
      await buyerGateway.send('SELLER', { tradeId: 'T-1', type: 'lock_notice', body: bodyOf(hashlock) });
      expect(events(await trade(w, 'SELLER'))).not.toContain(HTLC_EVENTS.notice);
      w.t += T_L;
      await w.pair.until(async () => isDone(await trade(w, 'SELLER')), 'the leader refund', 2_000);
      expect(await trade(w, 'SELLER')).toMatchObject({ status: 'failed', reason: 'timeout' });
      expect([w.fabric.count('refund'), w.evm.count('claim')]).toEqual([1, 0]);
    });

    it("refunds at T_L while the follower's ledger refuses every read of the follower's lock", async () => {
      w = new World('seller');
      const down = new LedgerError('UNAVAILABLE', 'evm', 'node unreachable');
      w.evm.readFault = (signer) => (signer === addr('SELLER', 'evm') ? down : undefined);
      await w.pair.trade('T-1');
      const hasNotice = async (): Promise<boolean> => events(await trade(w, 'SELLER')).includes(HTLC_EVENTS.notice);
      await w.pair.until(hasNotice, "the follower's notice");
      w.t += T_L;
      await w.pair.until(async () => isDone(await trade(w, 'SELLER')), 'the leader refund', 2_000);
      expect(await trade(w, 'SELLER')).toMatchObject({ status: 'failed', reason: 'timeout' });
      await w.pair.final('T-1');
      expect([w.fabric.count('refund'), w.evm.count('refund'), w.evm.count('claim')]).toEqual([1, 1, 0]);
      expect(w.pair.gw('SELLER').errors).toContainEqual(down); // reported, not swallowed
      w.expectConserved();
    });
  });

  describe('counterparty lock notices', () => {
    const decoys: readonly [string, string, bigint][] = [
      ['another account', 'mallory@evm', AMOUNT],
      ["the follower's own account, with other terms", addr('BUYER', 'evm'), AMOUNT - 1n],
    ];
    it.each(decoys)(
      "settles when a decoy lock under the leader's hashlock, by %s, is seen after the follower's real one",
      async (_name, decoySender, amount) => {
        w = new World('seller');
        // The leader cannot read the cash ledger until both notices are in.
        let reachable = false;
        const down = new LedgerError('UNAVAILABLE', 'evm', 'node unreachable');
        w.evm.readFault = (signer) => (signer === addr('SELLER', 'evm') && !reachable ? down : undefined);
        await w.pair.trade('T-1');
        const notices = async (): Promise<number> =>
          events(await trade(w, 'SELLER')).filter((e) => e === HTLC_EVENTS.notice).length;
        await w.pair.until(async () => (await notices()) === 1, "the follower's notice");
        const { hashlock = '' } = await ownLock(w, 'SELLER');
        w.evm.mint(decoySender, EUR, amount);
        const decoy = w.evm.connector(decoySender);
        const terms = { receiver: addr('SELLER', 'evm'), asset: EUR, amount, hashlock, expiry: w.t + T_F };
        const { lockId: decoyId } = await decoy.lock(terms);
        await new Promise((r) => setTimeout(r, 50)); // the decoy's ledger event is handled
        reachable = true;
        const final = await w.pair.final('T-1', 2_000);
        expect([final.BUYER.status, final.SELLER.status]).toEqual(['settled', 'settled']);
        expect(w.evm.locks.get(decoyId)?.state).toBe('locked');
        expect(w.evm.count('claim')).toBe(1);
        const decoyNotices = final.SELLER.timeline.filter(
          (s) => s.event === HTLC_EVENTS.notice && s.detail?.['lockId'] === decoyId,
        );
        // A lock by anyone but the follower is no notice at all.
        expect(decoyNotices).toHaveLength(decoySender === 'mallory@evm' ? 0 : 1);
      },
    );
  });

  describe('follower deadline', () => {
    it('fails the follower at the settlement deadline when the announced leader lock never appears', async () => {
      w = new World('seller');
      const deadline = w.t + 100;
      await w.pair.trade('T-1', { settlementDeadline: deadline }, ['BUYER']); // the seller's side is played by hand
      const leaderGateway = w.pair.hub.messengerFor(actorOf('SELLER', 'gateway'));
      const body = { lockId: 'htlc:SELLER:T-1', hashlock: newSecret().hashlock }; // no such lock on Fabric
      await leaderGateway.send('BUYER', { tradeId: 'T-1', type: 'lock_notice', body });
      expect(events(await trade(w, 'BUYER'))).toContain(HTLC_EVENTS.notice);
      await new Promise((r) => setTimeout(r, 50));
      expect((await trade(w, 'BUYER')).status).toBe('matched');
      w.t = deadline;
      await w.pair.until(async () => isDone(await trade(w, 'BUYER')), 'the follower deadline', 2_000);
      const buyer = await trade(w, 'BUYER');
      expect(buyer).toMatchObject({ status: 'failed', reason: 'timeout' });
      expect(buyer.timeline.at(-1)).toMatchObject({ event: HTLC_EVENTS.failed, detail: { lockId: body.lockId } });
      expect(w.broadcasts()).toEqual([]);
    });
  });
});
