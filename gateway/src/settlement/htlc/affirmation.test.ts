/**
 * DESIGN.md 3.1 step 1: the leader locks only once both gateways hold the same terms, i.e. once
 * the counterparty affirmed them (`awaitAffirmation`, on in the gateway process).
 */
import { AFFIRMED_EVENT } from '../../core/trade';
import { actorOf } from '../../../testing/engine-fakes';
import { World } from './__tests__/world';
import { HTLC_EVENTS } from './progress';

it('does not lock before the counterparty affirms, then settles once it has', async () => {
  const w = new World('seller', { awaitAffirmation: true });
  try {
    await w.pair.trade('T-1');
    await new Promise((r) => setTimeout(r, 200)); // twenty polls of the leader's loop
    expect(w.broadcasts()).toEqual([]);
    const seller = await w.pair.gw('SELLER').engine.get('T-1');
    expect(seller.status).toBe('matched');
    w.pair.gw('SELLER').engine.annotate(actorOf('BUYER', 'gateway'), 'T-1', { event: AFFIRMED_EVENT });
    const done = await w.pair.final('T-1');
    expect([done.SELLER.status, done.BUYER.status]).toEqual(['settled', 'settled']);
    expect(done.SELLER.timeline.map((s) => s.event)).toContain(HTLC_EVENTS.locked);
  } finally {
    await w.close();
  }
});

it('locks nothing while its own operator asks to cancel; the trade ends cancelled when the other side agrees', async () => {
  const w = new World('seller', { awaitAffirmation: true });
  try {
    await w.pair.trade('T-1');
    const seller = w.pair.gw('SELLER').engine;
    await seller.cancel(actorOf('SELLER', 'trader'), 'T-1');
    seller.annotate(actorOf('BUYER', 'gateway'), 'T-1', { event: AFFIRMED_EVENT });
    await new Promise((r) => setTimeout(r, 200));
    expect(w.broadcasts()).toEqual([]);
    const done = await seller.counterpartyNotice(actorOf('BUYER', 'gateway'), { tradeId: 'T-1', kind: 'cancel' });
    expect(done.status).toBe('cancelled');
  } finally {
    await w.close();
  }
});

it('never locks past the deadline, even when a crash left the trade pending without a lock', async () => {
  const w = new World('seller', { awaitAffirmation: true });
  try {
    await w.pair.trade('T-1', { settlementDeadline: w.t + 60 });
    const { store } = w.pair.gw('SELLER');
    store.transaction(() => store.trades.setStatus('T-1', 'pending', new Date().toISOString()));
    w.t += 61;
    w.pair.gw('SELLER').engine.annotate(actorOf('BUYER', 'gateway'), 'T-1', { event: AFFIRMED_EVENT });
    await w.pair.gw('SELLER').engine.resume();
    await w.pair.until(async () => (await w.pair.gw('SELLER').engine.get('T-1')).status === 'failed', 'fail');
    expect(w.broadcasts()).toEqual([]);
  } finally {
    await w.close();
  }
});
