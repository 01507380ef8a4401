import type { SettlementMessage } from '../engine';
import { actorOf } from '../testing/engine-fakes';
import type { Trade } from '../trade-service';
import type { Party } from './__tests__/gateways';
import { AMOUNT, CASH, QTY, SHARES, World } from './__tests__/world';
import { HTLC_EVENTS } from './progress';
import { createSecretStore } from './secrets';

const SETTLED = { sellerShares: SHARES - QTY, buyerShares: QTY, buyerCash: CASH - AMOUNT, sellerCash: AMOUNT };

const trade = (w: World, p: Party, tradeId = 'T-1'): Promise<Trade> => w.pair.gw(p).engine.get(p, tradeId);

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
        const { preimage } = createSecretStore(w.pair.gw('SELLER').store.db).secretFor('SELLER', 'T-1');
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
});
