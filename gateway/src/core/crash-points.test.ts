/**
 * The crash points' names and the modes' step lists they are made from: every message type
 * gateways exchange belongs to a declared step, so none can be left out of the crash matrix.
 */
import { PEER_MESSAGE_TYPES } from '../messaging/envelope';
import { ESCROW_ORCHESTRATED_STEPS } from '../settlement/escrow-orchestrated/protocol';
import { HTLC_STEPS } from '../settlement/htlc/progress';
import { MATCHING_STEPS } from '../trades/matching';
import { crashPointsOf } from './crash-points';

describe('crash points', () => {
  it('names three points per journaled action, one per approval, five per message type', () => {
    const steps = {
      ledger: [
        { leg: 'securities' as const, kind: 'lock' as const },
        { leg: 'cash' as const, kind: 'approve' as const },
        { leg: 'cash' as const, kind: 'refund' as const, onFailure: true },
      ],
      messages: { preimage: {}, cancel: { onFailure: true } },
    };
    expect(crashPointsOf(steps, true)).toEqual([
      'securities.lock:journaled',
      'securities.lock:confirmed',
      'securities.lock:recorded',
      'cash.approve:confirmed',
      'send.preimage:queued',
      'send.preimage:delivered',
      'receive.preimage:received',
      'receive.preimage:handled',
      'receive.preimage:recorded',
    ]);
    const all = crashPointsOf(steps);
    expect(all).toHaveLength(9 + 3 + 5);
    expect(all).toEqual(expect.arrayContaining(['cash.refund:recorded', 'receive.cancel:handled']));
  });

  it('every message type gateways exchange is a step of matching or of a settlement mode', () => {
    const declared = [MATCHING_STEPS, HTLC_STEPS, ESCROW_ORCHESTRATED_STEPS].flatMap((s) => Object.keys(s.messages));
    expect([...declared].sort()).toEqual([...PEER_MESSAGE_TYPES].sort());
  });

  it('an HTLC trade that settles passes 37 points over both sides; one that fails, 6 more per refund', () => {
    const settling = [...crashPointsOf(MATCHING_STEPS, true), ...crashPointsOf(HTLC_STEPS, true)];
    expect(settling).toHaveLength(2 * 5 + 4 * 3 + 2 * 5);
    expect(crashPointsOf(HTLC_STEPS).length - crashPointsOf(HTLC_STEPS, true).length).toBe(2 * 3);
  });
});
