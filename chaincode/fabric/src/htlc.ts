/**
 * Hash-time-locked transfers. Lock moves units from the caller's free balance into the lock;
 * claim (strictly before expiry, right preimage) pays the fixed receiver and reveals the
 * preimage on the ledger; refund (at or after expiry) returns the units to the sender. The
 * claim and refund windows never overlap.
 */
import type { SecuritiesContext } from './context';
import { requireFutureExpiry, requireId } from './context';
import { emit } from './events';
import { fail } from './errors';
import { normalizeHashlock, requirePreimageFormat, verifyPreimage } from './hashlock';
import { instrumentQuantity, requireDestination } from './holdings';
import { HtlcLock, record } from './model';

/** Parameters of {@link lockHtlc}, as received by the transaction. */
export interface LockRequest {
  readonly lockId: string;
  readonly isin: string;
  readonly quantity: string;
  readonly receiver: string;
  readonly hashlock: string;
  readonly expiry: number;
}

/** The lock as an event payload (everything a watcher needs to verify it). */
function lockFacts(lock: HtlcLock): Record<string, unknown> {
  return { ...lock };
}

/** Loads a lock or NOT_FOUND; ALREADY_SETTLED unless still LOCKED. */
async function openLock(ctx: SecuritiesContext, lockId: string): Promise<HtlcLock> {
  const lock = await ctx.ledger.read(HtlcLock, 'htlc', requireId(lockId, 'lockId'));
  if (lock === undefined) fail('NOT_FOUND', 'no such lock', { lockId });
  if (lock.status !== 'LOCKED')
    fail('ALREADY_SETTLED', `lock is already ${lock.status}`, { lockId, status: lock.status });
  return lock;
}

/** Locks `quantity` of the caller's free units for `receiver` under `hashlock` until `expiry`. */
export async function lockHtlc(ctx: SecuritiesContext, req: LockRequest): Promise<HtlcLock> {
  const { ledger, caller } = ctx;
  requireId(req.lockId, 'lockId');
  const hashlock = normalizeHashlock(req.hashlock);
  const { amount } = await instrumentQuantity(ctx, req.isin, req.quantity);
  await requireDestination(ctx, req.receiver, 'receiver');
  requireFutureExpiry(req.expiry, ledger.now);
  if ((await ledger.readRaw('htlc', req.lockId)) !== undefined) {
    fail('ALREADY_EXISTS', 'lock id already used', { lockId: req.lockId });
  }
  await ledger.debit(caller.account, req.isin, amount);
  const lock = record(HtlcLock, {
    createdAt: ledger.now,
    expiry: req.expiry,
    hashlock,
    isin: req.isin,
    lockId: req.lockId,
    preimage: '',
    quantity: amount.toString(),
    receiver: req.receiver,
    sender: caller.account,
    settledAt: 0,
    status: 'LOCKED',
  });
  await ledger.write('htlc', [lock.lockId], lock);
  emit(ctx, 'HTLCLocked', lockFacts(lock));
  return lock;
}

/** Claims a lock with its preimage, strictly before expiry; anyone may submit, the receiver is paid. */
export async function claimHtlc(ctx: SecuritiesContext, lockId: string, preimage: string): Promise<HtlcLock> {
  const { ledger } = ctx;
  // The preimage's shape first, as HashedTimelock does (HtlcInvalidPreimageLength before the
  // lock lookup), so both ledgers report the same code for the same call.
  requirePreimageFormat(preimage, lockId);
  const lock = await openLock(ctx, lockId);
  if (ledger.now >= lock.expiry) {
    fail('LOCK_EXPIRED', 'claims must happen strictly before expiry', { lockId, expiry: lock.expiry, now: ledger.now });
  }
  const revealed = verifyPreimage(preimage, lock.hashlock, lockId);
  await ledger.credit(lock.receiver, lock.isin, BigInt(lock.quantity));
  const claimed = record(HtlcLock, { ...lock, preimage: revealed, settledAt: ledger.now, status: 'CLAIMED' });
  await ledger.write('htlc', [lockId], claimed);
  emit(ctx, 'HTLCClaimed', lockFacts(claimed));
  return claimed;
}

/** Refunds a lock to its sender at or after expiry; anyone may submit. */
export async function refundHtlc(ctx: SecuritiesContext, lockId: string): Promise<HtlcLock> {
  const { ledger } = ctx;
  const lock = await openLock(ctx, lockId);
  if (ledger.now < lock.expiry) {
    fail('LOCK_NOT_EXPIRED', 'refunds are allowed only at or after expiry', {
      lockId,
      expiry: lock.expiry,
      now: ledger.now,
    });
  }
  await ledger.credit(lock.sender, lock.isin, BigInt(lock.quantity));
  const refunded = record(HtlcLock, { ...lock, settledAt: ledger.now, status: 'REFUNDED' });
  await ledger.write('htlc', [lockId], refunded);
  emit(ctx, 'HTLCRefunded', lockFacts(refunded));
  return refunded;
}

/** Reads a lock or NOT_FOUND. */
export async function getHtlc(ctx: SecuritiesContext, lockId: string): Promise<HtlcLock> {
  return (await ctx.ledger.read(HtlcLock, 'htlc', lockId)) ?? fail('NOT_FOUND', 'no such lock', { lockId });
}
