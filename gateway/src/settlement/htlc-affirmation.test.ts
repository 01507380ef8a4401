/**
 * DESIGN.md 3.1 step 1: the leader locks only once both gateways hold the same terms, i.e. once
 * the counterparty affirmed them (`awaitAffirmation`, on in the gateway process).
 */
import { AFFIRMED_EVENT } from '../matching';
import { actorOf } from '../testing/engine-fakes';
import { World } from './__tests__/world';
import { HTLC_EVENTS } from './progress';

it('does not lock before the counterparty affirms, then settles once it has', async () => {
  const w = new World('seller', { awaitAffirmation: true });
  try {
    await w.pair.trade('T-1');
    await new Promise((r) => setTimeout(r, 200)); // twenty polls of the leader's loop
    expect(w.broadcasts()).toEqual([]);
    const seller = await w.pair.gw('SELLER').engine.get('SELLER', 'T-1');
    expect(seller.status).toBe('matched');
    w.pair.gw('SELLER').engine.annotate(actorOf('BUYER', 'gateway'), 'SELLER', 'T-1', { event: AFFIRMED_EVENT });
    const done = await w.pair.final('T-1');
    expect([done.SELLER.status, done.BUYER.status]).toEqual(['settled', 'settled']);
    expect(done.SELLER.timeline.map((s) => s.event)).toContain(HTLC_EVENTS.locked);
  } finally {
    await w.close();
  }
});
