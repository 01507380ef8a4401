/**
 * Where an HTLC trade stands, read back from durable records only: the ledger-action journal
 * (locks, claims, refunds) and the trade's timeline (notices, verifications). Nothing here is
 * kept in memory, so a restarted gateway reads the same progress.
 */
import type { LockRequest } from '../../ledger/connector';
import { decodeSpec } from '../actions';
import type { JournalAction } from '../../core/journal';
import type { Trade } from '../../core/trade';
import { normHex, type HtlcPlan } from './terms';
import type { MessageStep, ModeSteps } from '../../core/crash-points';
import type { HtlcMessageType } from '../messenger';

/** Timeline events of the HTLC mode. */
export const HTLC_EVENTS = {
  started: 'htlc_started',
  locked: 'htlc_locked',
  noticeSent: 'htlc_lock_notice_sent',
  notice: 'htlc_counterparty_lock',
  verified: 'htlc_counterparty_lock_verified',
  rejected: 'htlc_counterparty_lock_rejected',
  claimed: 'htlc_claimed',
  refunded: 'htlc_refunded',
  settled: 'htlc_settled',
  failed: 'htlc_failed',
} as const;

/**
 * The mode's steps, for its crash points (core/crash-points.ts): either side may lead, so each leg
 * is locked and claimed (or refunded, when the trade fails); each side sends its lock notice, the
 * leader the preimage.
 */
export const HTLC_STEPS: ModeSteps = {
  ledger: (['securities', 'cash'] as const).flatMap((leg) => [
    { leg, kind: 'lock' as const },
    { leg, kind: 'claim' as const },
    { leg, kind: 'refund' as const, onFailure: true },
  ]),
  messages: { lock_notice: {}, preimage: {} } satisfies Record<HtlcMessageType, MessageStep>,
};

/** This gateway's lock, as journaled when done. */
export interface OwnLock {
  readonly lockId: string;
  readonly request: LockRequest;
  /** Where it landed, when the journal knows. */
  readonly txId?: string;
  readonly block?: string;
}

/** A counterparty's lock as announced (message or ledger event); not trusted until verified. */
export interface LockNotice {
  readonly lockId: string;
  readonly hashlock: string;
}

/** Progress of one trade. */
export interface HtlcProgress {
  /** The lock action that completed. */
  readonly ownLock?: OwnLock;
  /** Terms of a lock action whose outcome is unknown: retried with exactly these terms. */
  readonly unfinishedLock?: LockRequest;
  /** Error of a lock action the ledger refused (and no lock done). */
  readonly lockError?: string;
  readonly noticeSent: boolean;
  /** The timeline has the `htlc_locked` step (it may lack it after a crash right after the lock). */
  readonly lockRecorded: boolean;
  /** The counterparty notice this gateway verified, else the oldest one not rejected. */
  readonly notice?: LockNotice;
  /** The counterparty lock id this gateway verified on its ledger. */
  readonly verifiedLockId?: string;
  /** This gateway's claim of the counterparty's lock is done. */
  readonly claimed: boolean;
}

function lockProgress(actions: readonly JournalAction[], plan: HtlcPlan): Partial<HtlcProgress> {
  const locks = actions.filter((a) => a.kind === 'lock' && a.leg === plan.mine.name);
  const done = locks.find((a) => a.state === 'done' && a.ledgerRef !== undefined);
  const request = (a: JournalAction): LockRequest => {
    const spec = decodeSpec('lock', a.params);
    if (spec.kind !== 'lock') throw new Error(`journal action ${a.id} is not a lock`);
    return spec.request;
  };
  if (done?.ledgerRef !== undefined) {
    const { txId, block } = done.result ?? {};
    const landed = { ...(txId !== undefined && { txId }), ...(block !== undefined && { block }) };
    return { ownLock: { lockId: done.ledgerRef, request: request(done), ...landed } };
  }
  const open = locks.find((a) => a.state === 'intent' || a.state === 'prepared');
  if (open) return { unfinishedLock: request(open) };
  const failed = locks.find((a) => a.state === 'failed');
  return failed ? { lockError: failed.error ?? 'failed' } : {};
}

/**
 * Every notice is kept: a later one (a decoy under the same public hashlock) must never hide an
 * earlier good one, so the choice is the verified notice, else the oldest not rejected.
 */
function noticeProgress(trade: Trade): Pick<HtlcProgress, 'notice' | 'verifiedLockId'> {
  const about = (event: string): (Readonly<Record<string, string>> & { readonly lockId: string })[] =>
    trade.timeline.flatMap((s) => {
      const lockId = s.detail?.['lockId'];
      return s.event === event && lockId !== undefined ? [{ ...s.detail, lockId }] : [];
    });
  const rejected = new Set(about(HTLC_EVENTS.rejected).map((d) => normHex(d.lockId)));
  const verifiedLockId = about(HTLC_EVENTS.verified).at(-1)?.lockId;
  const notices = about(HTLC_EVENTS.notice).flatMap(({ lockId, hashlock }): LockNotice[] =>
    hashlock === undefined ? [] : [{ lockId, hashlock }],
  );
  const isVerified = (n: LockNotice): boolean =>
    verifiedLockId !== undefined && normHex(n.lockId) === normHex(verifiedLockId);
  const notice = notices.find(isVerified) ?? notices.find((n) => !rejected.has(normHex(n.lockId)));
  return { ...(notice && { notice }), ...(verifiedLockId !== undefined && { verifiedLockId }) };
}

/** Reads the progress of `trade` from its journal actions and timeline. */
export function readProgress(trade: Trade, actions: readonly JournalAction[], plan: HtlcPlan): HtlcProgress {
  const claimed = actions.some((a) => a.kind === 'claim' && a.leg === plan.theirs.name && a.state === 'done');
  return {
    ...lockProgress(actions, plan),
    ...noticeProgress(trade),
    noticeSent: trade.timeline.some((s) => s.event === HTLC_EVENTS.noticeSent),
    lockRecorded: trade.timeline.some((s) => s.event === HTLC_EVENTS.locked),
    claimed,
  };
}

/** True when the timeline already holds a notice of `lockId`. */
export function hasNotice(trade: Trade, lockId: string): boolean {
  return trade.timeline.some(
    (s) => s.event === HTLC_EVENTS.notice && normHex(s.detail?.['lockId'] ?? '') === normHex(lockId),
  );
}
