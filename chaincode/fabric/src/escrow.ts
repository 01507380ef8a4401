/**
 * Escrow for escrow-DvP: a deposit tied to a trade id and a controller (the escrow manager).
 * The controller releases to the beneficiary (in full or in parts, strictly before expiry) or
 * returns the rest to the depositor at any time; when hash-conditioned, presenting the preimage
 * also authorizes a release. The depositor may take the rest back at or after expiry, so a
 * vanished controller cannot trap the units.
 *
 * The escrow's id is derived from the depositor and the trade ({@link escrowIdOf}), so one
 * depositor has one escrow per trade and nobody can take another's id first. An escrow may name
 * a notary: then every release needs the notary's approval of exactly its quantity
 * (`EscrowApprove`, one use each), on the controller's path and the preimage path alike.
 */
import { createHash } from 'node:crypto';

import type { SecuritiesContext } from './context';
import { requireFutureExpiry, requireId } from './context';
import { emit } from './events';
import { fail } from './errors';
import { normalizeHashlock, requirePreimageFormat, verifyPreimage } from './hashlock';
import { isIdentityAccount } from './identity';
import { instrumentQuantity, requireDestination } from './holdings';
import { Escrow, record } from './model';
import { parseQuantity, requireSettlementUnit } from './quantity';

/**
 * The id of `depositor`'s escrow for `tradeId`: SHA-256 (hex) of the JSON array
 * `[depositor, tradeId]`. Gateways compute the same before they deposit.
 */
export function escrowIdOf(depositor: string, tradeId: string): string {
  return createHash('sha256')
    .update(JSON.stringify([depositor, tradeId]))
    .digest('hex');
}

/** Parameters of {@link escrowDeposit}, as received by the transaction. */
export interface DepositRequest {
  readonly tradeId: string;
  readonly isin: string;
  readonly quantity: string;
  readonly beneficiary: string;
  readonly controller: string;
  readonly expiry: number;
  /** Empty for a deposit without hash condition. */
  readonly hashlock: string;
  /** Identity account whose approval every release needs; empty for none. */
  readonly notary: string;
}

async function openEscrow(ctx: SecuritiesContext, escrowId: string): Promise<Escrow> {
  const escrow = await ctx.ledger.read(Escrow, 'escrow', requireId(escrowId, 'escrowId'));
  if (escrow === undefined) fail('NOT_FOUND', 'no such escrow', { escrowId });
  return escrow;
}

function requireOpen(escrow: Escrow): void {
  if (escrow.status !== 'OPEN') {
    fail('ALREADY_SETTLED', `escrow is already ${escrow.status}`, { escrowId: escrow.escrowId, status: escrow.status });
  }
}

function requireIdentity(account: string, field: 'controller' | 'notary'): void {
  if (!isIdentityAccount(account)) {
    fail('INVALID_ARGUMENT', `${field} must be an identity (<mspId>:<subject>)`, { [field]: account });
  }
}

/** Moves `quantity` of the caller's free units into a new escrow, its id derived from caller and trade. */
export async function escrowDeposit(ctx: SecuritiesContext, req: DepositRequest): Promise<Escrow> {
  const { ledger, caller } = ctx;
  requireId(req.tradeId, 'tradeId');
  const hashlock = req.hashlock === '' ? '' : normalizeHashlock(req.hashlock);
  const { amount } = await instrumentQuantity(ctx, req.isin, req.quantity);
  await requireDestination(ctx, req.beneficiary, 'beneficiary');
  requireIdentity(req.controller, 'controller');
  if (req.notary !== '') requireIdentity(req.notary, 'notary');
  requireFutureExpiry(req.expiry, ledger.now);
  const escrowId = escrowIdOf(caller.account, req.tradeId);
  if ((await ledger.readRaw('escrow', escrowId)) !== undefined) {
    fail('ALREADY_EXISTS', 'the depositor already has an escrow for this trade', { escrowId, tradeId: req.tradeId });
  }
  await ledger.debit(caller.account, req.isin, amount);
  const escrow = record(Escrow, {
    approved: '0',
    approvalsUsed: 0,
    beneficiary: req.beneficiary,
    controller: req.controller,
    createdAt: ledger.now,
    depositor: caller.account,
    escrowId,
    expiry: req.expiry,
    hashlock,
    isin: req.isin,
    notary: req.notary,
    preimage: '',
    quantity: amount.toString(),
    released: '0',
    remaining: amount.toString(),
    returned: '0',
    status: 'OPEN',
    tradeId: req.tradeId,
    updatedAt: ledger.now,
  });
  await ledger.write('escrow', [escrow.escrowId], escrow);
  emit(ctx, 'EscrowDeposited', { ...escrow });
  return escrow;
}

/**
 * Checks who may release and when: the controller, or anyone presenting the preimage of a
 * hash-conditioned escrow; strictly before expiry. Returns the preimage to record.
 */
function authorizeRelease(ctx: SecuritiesContext, escrow: Escrow, preimage: string): string {
  const { ledger, caller } = ctx;
  const { escrowId } = escrow;
  const byPreimage = preimage !== '' && escrow.hashlock !== '';
  if (caller.account !== escrow.controller && !byPreimage) {
    fail('NOT_AUTHORIZED', 'only the controller, or a holder of the preimage, may release', { escrowId });
  }
  if (byPreimage) requirePreimageFormat(preimage, escrowId);
  if (ledger.now >= escrow.expiry) {
    fail('LOCK_EXPIRED', 'releases must happen strictly before expiry', {
      escrowId,
      expiry: escrow.expiry,
      now: ledger.now,
    });
  }
  return byPreimage ? verifyPreimage(preimage, escrow.hashlock, escrowId) : escrow.preimage;
}

/**
 * With a notary, a release needs its pending approval of exactly `amount`, which it uses up;
 * returns the escrow fields to write. Without a notary, nothing.
 */
function useApproval(escrow: Escrow, amount: bigint): Partial<Escrow> {
  if (escrow.notary === '') return {};
  if (BigInt(escrow.approved) !== amount) {
    fail('NOT_APPROVED', 'the notary has not approved a release of this quantity', {
      approved: escrow.approved,
      escrowId: escrow.escrowId,
      requested: amount.toString(),
    });
  }
  return { approved: '0', approvalsUsed: escrow.approvalsUsed + 1 };
}

/**
 * The escrow's notary approves the next release of `quantity` (all or part of what remains),
 * strictly before expiry; a later approval replaces one not yet used.
 */
export async function escrowApprove(ctx: SecuritiesContext, escrowId: string, quantity: string): Promise<Escrow> {
  const { ledger, caller } = ctx;
  const escrow = await openEscrow(ctx, escrowId);
  const amount = parseQuantity(quantity, 'quantity');
  requireOpen(escrow);
  if (escrow.notary === '' || caller.account !== escrow.notary) {
    fail('NOT_AUTHORIZED', 'only the escrow’s notary may approve its releases', { escrowId });
  }
  if (ledger.now >= escrow.expiry) {
    fail('LOCK_EXPIRED', 'approvals must happen strictly before expiry', {
      escrowId,
      expiry: escrow.expiry,
      now: ledger.now,
    });
  }
  if (amount > BigInt(escrow.remaining)) {
    fail('EXCEEDS_ESCROW', 'approval exceeds what remains in escrow', {
      escrowId,
      remaining: escrow.remaining,
      requested: amount.toString(),
    });
  }
  const approved = record(Escrow, { ...escrow, approved: amount.toString(), updatedAt: ledger.now });
  await ledger.write('escrow', [escrowId], approved);
  emit(ctx, 'EscrowApproved', { ...approved, approvalNumber: escrow.approvalsUsed + 1 });
  return approved;
}

/**
 * Releases `quantity` (all or part of what remains) to the beneficiary, strictly before expiry.
 * Authorized for the controller, or for anyone presenting the preimage of a hash-conditioned
 * deposit. `preimage` is empty when not presented.
 */
export async function escrowRelease(
  ctx: SecuritiesContext,
  escrowId: string,
  quantity: string,
  preimage: string,
): Promise<Escrow> {
  const { ledger } = ctx;
  const escrow = await openEscrow(ctx, escrowId);
  const amount = parseQuantity(quantity, 'quantity');
  requireOpen(escrow);
  const revealed = authorizeRelease(ctx, escrow, preimage);
  const remaining = BigInt(escrow.remaining);
  if (amount > remaining) {
    fail('EXCEEDS_ESCROW', 'release exceeds what remains in escrow', {
      escrowId,
      remaining: remaining.toString(),
      requested: amount.toString(),
    });
  }
  const instrument = await ledger.instrument(escrow.isin);
  requireSettlementUnit(amount, BigInt(instrument.minSettlementUnit), escrow.isin);
  const approval = useApproval(escrow, amount);
  await ledger.credit(escrow.beneficiary, escrow.isin, amount);
  const left = remaining - amount;
  const released = record(Escrow, {
    ...escrow,
    ...approval,
    preimage: revealed,
    released: (BigInt(escrow.released) + amount).toString(),
    remaining: left.toString(),
    status: left === 0n ? 'RELEASED' : 'OPEN',
    updatedAt: ledger.now,
  });
  await ledger.write('escrow', [escrowId], released);
  emit(ctx, 'EscrowReleased', { ...released, quantityReleased: amount.toString() });
  return released;
}

/**
 * Returns everything that remains to the depositor: by the controller at any time while open,
 * or by the depositor at or after expiry.
 */
export async function escrowReturn(ctx: SecuritiesContext, escrowId: string): Promise<Escrow> {
  const { ledger, caller } = ctx;
  const escrow = await openEscrow(ctx, escrowId);
  requireOpen(escrow);
  if (caller.account !== escrow.controller) {
    if (caller.account !== escrow.depositor) {
      fail('NOT_AUTHORIZED', 'only the controller, or the depositor after expiry, may return', { escrowId });
    }
    if (ledger.now < escrow.expiry) {
      fail('LOCK_NOT_EXPIRED', 'the depositor may take the deposit back only at or after expiry', {
        escrowId,
        expiry: escrow.expiry,
        now: ledger.now,
      });
    }
  }
  const amount = BigInt(escrow.remaining);
  await ledger.credit(escrow.depositor, escrow.isin, amount);
  const returned = record(Escrow, {
    ...escrow,
    remaining: '0',
    returned: (BigInt(escrow.returned) + amount).toString(),
    status: 'RETURNED',
    updatedAt: ledger.now,
  });
  await ledger.write('escrow', [escrowId], returned);
  emit(ctx, 'EscrowReturned', { ...returned, quantityReturned: amount.toString() });
  return returned;
}

/** Reads an escrow or NOT_FOUND. */
export async function getEscrow(ctx: SecuritiesContext, escrowId: string): Promise<Escrow> {
  return (await ctx.ledger.read(Escrow, 'escrow', escrowId)) ?? fail('NOT_FOUND', 'no such escrow', { escrowId });
}
