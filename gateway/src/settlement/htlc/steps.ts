/**
 * The timeline steps of the HTLC mode (each one transaction: trade, timeline, audit, through the
 * engine), the lock terms this gateway asks for, and the journaled claim and refund.
 */
import { CANCEL_REQUESTED_OWN } from '../../core/trade';
import { type SettlementContext, type StepRequest } from '../mode';
import type { LedgerEvent, LockRequest, LockView } from '../../ledger/connector';
import { isTerminal } from '../../core/state-machine';
import { LedgerError } from '../../ledger/errors';
import type { ActionOutcome } from '../actions';
import type { Trade } from '../../core/trade';
import type { Next } from '../loops';
import { HTLC_EVENTS, type HtlcProgress, type OwnLock } from './progress';
import { normHex, type HtlcFailure, type HtlcPlan, type Leg } from './terms';

/** One pass over one trade. */
export interface Run {
  readonly ctx: SettlementContext;
  readonly trade: Trade;
  readonly plan: HtlcPlan;
  readonly p: HtlcProgress;
  readonly now: number;
  readonly key: string;
}

/** The terms of this gateway's lock. */
export function lockRequestOf(r: Run, hashlock: string, expiry: number): LockRequest {
  const { asset, amount, receiver } = r.plan.mine;
  // Caller-chosen ids (Fabric) are derived from the trade, so a retried lock reuses them.
  const lockId = `htlc:${r.trade.owner}:${r.trade.tradeId}`;
  return { lockId, receiver, asset, amount, hashlock, expiry };
}

/** matched → pending before anything is locked, so a two-sided cancel can no longer race a lock. */
export function begin(r: Run, detail: Readonly<Record<string, string>>): void {
  if (r.trade.status !== 'matched') return;
  r.ctx.step(r.trade.tradeId, { event: HTLC_EVENTS.started, to: 'pending', detail });
}

/** The `htlc_locked` step (also written on resume when a crash came between the lock and it). */
export function recordLock(r: Run, lock: OwnLock): void {
  const { hashlock, expiry } = lock.request;
  const detail = { lockId: lock.lockId, hashlock, expiry: String(expiry) };
  const at = { ...(lock.txId && { txId: lock.txId }), ...(lock.block && { block: lock.block }) };
  r.ctx.step(r.trade.tradeId, {
    event: HTLC_EVENTS.locked,
    leg: r.plan.mine.name,
    ledger: r.plan.mine.ledger,
    ...at,
    detail,
  });
}

/** Settles the trade. */
export function finish(r: Run, event: string, detail: Readonly<Record<string, string>>): Next {
  r.ctx.step(r.trade.tradeId, { event, to: 'settled', detail });
  return 'done';
}

/** Fails the trade with a reason code. */
export function fail(r: Run, reason: HtlcFailure, detail: Readonly<Record<string, string>>): Next {
  r.ctx.step(r.trade.tradeId, { event: HTLC_EVENTS.failed, to: 'failed', reason, detail });
  return 'done';
}

/** Leg, ledger, transaction and block of an action on `leg`, for the timeline. */
export function txOf(leg: Leg, out: ActionOutcome): Pick<StepRequest, 'leg' | 'ledger' | 'txId' | 'block'> {
  return {
    leg: leg.name,
    ledger: leg.ledger,
    ...(out.txId !== undefined && { txId: out.txId }),
    ...(out.block !== undefined && { block: out.block.toString() }),
  };
}

/** Claims the counterparty's lock (journaled), revealing `preimage` on its ledger. */
export async function claim(r: Run, lockId: string, preimage: string): Promise<void> {
  const { ctx, trade, plan } = r;
  const out = await ctx.perform(trade.tradeId, plan.theirs.name, { kind: 'claim', lockId, preimage });
  ctx.step(trade.tradeId, {
    event: HTLC_EVENTS.claimed,
    ...txOf(plan.theirs, out),
    detail: { lockId },
  });
}

/** Refunds our lock at or after expiry, then fails the trade; a refusal because the ledger's clock is behind ours waits. */
export async function refund(r: Run, mine: OwnLock, reason: HtlcFailure): Promise<Next> {
  const { ctx, trade, plan } = r;
  try {
    const out = await ctx.perform(trade.tradeId, plan.mine.name, {
      kind: 'refund',
      lockId: mine.lockId,
    });
    const detail = { lockId: mine.lockId };
    ctx.step(trade.tradeId, { event: HTLC_EVENTS.refunded, ...txOf(plan.mine, out), detail });
  } catch (err) {
    if (err instanceof LedgerError && err.code === 'LOCK_NOT_EXPIRED') return 'wait';
    throw err;
  }
  return fail(r, reason, { lockId: mine.lockId });
}

/**
 * Our operator asked to cancel this matched trade and the counterparty has not (yet): lock
 * nothing; either the other side cancels too, or the deadline ends the trade.
 */
export const cancelAsked = (r: Run): boolean =>
  r.trade.status === 'matched' && r.trade.timeline.some((s) => s.event === CANCEL_REQUESTED_OWN);

/** Nothing to do for a trade in `status`: `done` once it ended (or before it matched), `wait` while held. */
export function idleAt(status: Trade['status']): Next | undefined {
  if (isTerminal(status) || status === 'received') return 'done';
  return status === 'matched' || status === 'pending' ? undefined : 'wait';
}

/** A `locked` event of `leg`: from its sender to its receiver, on its ledger. */
export function isLockOf(leg: Leg, e: LedgerEvent): boolean {
  const { sender = '', receiver = '' } = e.data;
  return (
    e.ledger === leg.ledger && normHex(sender) === normHex(leg.sender) && normHex(receiver) === normHex(leg.receiver)
  );
}

/** Our lock, not claimed: the trade fails once it is refunded, and we refund it at its expiry. */
export function refundAtExpiry(
  r: Run,
  mine: OwnLock,
  own: LockView | undefined,
  reason: HtlcFailure,
): Promise<Next> | Next {
  if (own?.state === 'refunded') return fail(r, reason, { lockId: mine.lockId });
  if (own?.state === 'locked' && r.now >= mine.request.expiry) return refund(r, mine, reason);
  return 'wait';
}

/** The ledger each leg runs on: the ledger of the connector the engine lends for it. */
export const ledgersOf =
  (ctx: SettlementContext) =>
  (leg: Leg['name']): Leg['ledger'] =>
    ctx.connector(leg).ledger;

/** The leg and ledger fields of a timeline step about `leg`. */
export const onLeg = (leg: Leg): { leg: Leg['name']; ledger: Leg['ledger'] } => ({ leg: leg.name, ledger: leg.ledger });
