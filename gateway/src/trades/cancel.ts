/**
 * The one cancel rule (DESIGN.md 4). A trade is cancelled only before anything is locked for it
 * (no journaled ledger action) and while its status allows it (`received`, `matched`, `held`).
 * Unmatched (`received`): its own operator cancels alone (the proposal is withdrawn on the other
 * side). Matched or held: each side asks once, and the trade becomes `cancelled` when both have.
 * A side asking again is answered with the trade as it is, also once it is cancelled: a retried
 * request is not an error. Who asks travels as a `cancel` message (service.ts); a settlement mode
 * that sees its own side's request before locking waits (settlement/htlc/steps.ts).
 */
import { CANCELLABLE } from '../core/state-machine';
import type { TradeStatus } from '../core/trade';
import type { StepRequest } from '../settlement/mode';
import type { CancelSide } from '../store/trades';

/** Reason code of a cancellation (sese.024 `CANC`). */
export const CANCELLED_REASON = 'CANC';

/** What a side's cancel request does to a trade. */
export type CancelDecision =
  | { readonly kind: 'repeated' }
  | { readonly kind: 'refused' }
  | { readonly kind: 'step'; readonly request: StepRequest };

/** The part of a trade the rule reads. */
export interface CancelState {
  readonly status: TradeStatus;
  readonly cancelRequested: Readonly<Record<CancelSide, boolean>>;
}

function mayCancel(status: TradeStatus, side: CancelSide, locked: boolean): boolean {
  if (!CANCELLABLE.includes(status) || locked) return false;
  return status !== 'received' || side === 'own';
}

/** The rule: `locked` is true once any ledger action was journaled for the trade. */
export function cancelDecision(trade: CancelState, side: CancelSide, locked: boolean): CancelDecision {
  const asked = trade.cancelRequested[side];
  if (asked && (trade.status === 'cancelled' || CANCELLABLE.includes(trade.status))) return { kind: 'repeated' };
  if (!mayCancel(trade.status, side, locked)) return { kind: 'refused' };
  const other = side === 'own' ? trade.cancelRequested.counterparty : trade.cancelRequested.own;
  const done = (trade.status === 'received' && side === 'own') || other;
  const request: StepRequest = done
    ? { event: `cancel_${side}`, to: 'cancelled', reason: CANCELLED_REASON }
    : { event: `cancel_requested_${side}` };
  return { kind: 'step', request };
}
