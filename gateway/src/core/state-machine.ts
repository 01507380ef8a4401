/**
 * The trade lifecycle (DESIGN.md section 4, after ISO 20022 sese.024) as an explicit table of
 * allowed transitions. Every status change in the store goes through {@link assertTransition}.
 */
import { type TradeStatus } from './trade';
import { TradeError } from './errors';

/**
 * Allowed next statuses. `pending`: settlement under way (ledger actions may exist); `failing`:
 * settlement is blocked but may recover (e.g. insufficient balance before the deadline);
 * `partially_settled`: a PART instruction settled in part, the remainder is cancelled at the
 * deadline. Terminal statuses have no successor.
 */
export const TRANSITIONS: { readonly [S in TradeStatus]: readonly TradeStatus[] } = {
  received: ['matched', 'cancelled', 'failed'],
  matched: ['held', 'pending', 'failing', 'cancelled', 'failed'],
  held: ['matched', 'pending', 'cancelled', 'failed'],
  pending: ['failing', 'partially_settled', 'settled', 'failed'],
  failing: ['pending', 'partially_settled', 'settled', 'failed'],
  partially_settled: ['settled', 'cancelled', 'failed'],
  settled: [],
  cancelled: [],
  failed: [],
};

/** Statuses in which nothing has been locked yet, so the trade may still be cancelled. */
export const CANCELLABLE: readonly TradeStatus[] = ['received', 'matched', 'held'];

/** True when the trade can never change again. */
export function isTerminal(status: TradeStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** True when `from → to` is in {@link TRANSITIONS}. */
export function canTransition(from: TradeStatus, to: TradeStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws `INVALID_TRANSITION` (with the trade id and both statuses) unless `from → to` is allowed. */
export function assertTransition(tradeId: string, from: TradeStatus, to: TradeStatus): void {
  if (!canTransition(from, to)) {
    throw new TradeError('INVALID_TRANSITION', `trade ${tradeId} cannot go from ${from} to ${to}`, {
      tradeId,
      from,
      to,
    });
  }
}
