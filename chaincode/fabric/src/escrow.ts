/**
 * Escrow for escrow-DvP: a deposit tied to a trade id and a controller (the escrow manager).
 * The controller releases to the beneficiary (in full or in parts, strictly before expiry) or
 * returns the rest to the depositor at any time; when hash-conditioned, presenting the preimage
 * also authorizes a release. The depositor may take the rest back at or after expiry, so a
 * vanished controller cannot trap the units.
 */
import type { SecuritiesContext } from './context';
import { requireFutureExpiry, requireId } from './context';
import { emit } from './events';
import { fail } from './errors';
import { normalizeHashlock, requirePreimageFormat, verifyPreimage } from './hashlock';
import { isIdentityAccount } from './identity';
import { instrumentQuantity, requireDestination } from './holdings';
import { Escrow, record } from './model';
import { parseQuantity, requireSettlementUnit } from './quantity';

/** Parameters of {@link escrowDeposit}, as received by the transaction. */
export interface DepositRequest {
  readonly escrowId: string;
  readonly tradeId: string;
  readonly isin: string;
  readonly quantity: string;
  readonly beneficiary: string;
  readonly controller: string;
  readonly expiry: number;
  /** Empty for a deposit without hash condition. */
  readonly hashlock: string;
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

/** Moves `quantity` of the caller's free units into a new escrow. */
export async function escrowDeposit(ctx: SecuritiesContext, req: DepositRequest): Promise<Escrow> {
  const { ledger, caller } = ctx;
  requireId(req.escrowId, 'escrowId');
  requireId(req.tradeId, 'tradeId');
  const hashlock = req.hashlock === '' ? '' : normalizeHashlock(req.hashlock);
  const { amount } = await instrumentQuantity(ctx, req.isin, req.quantity);
  await requireDestination(ctx, req.beneficiary, 'beneficiary');
  if (!isIdentityAccount(req.controller)) {
    fail('INVALID_ARGUMENT', 'controller must be an identity (<mspId>:<subject>)', { controller: req.controller });
  }
  requireFutureExpiry(req.expiry, ledger.now);
  if ((await ledger.readRaw('escrow', req.escrowId)) !== undefined) {
    fail('ALREADY_EXISTS', 'escrow id already used', { escrowId: req.escrowId });
  }
  await ledger.debit(caller.account, req.isin, amount);
  const escrow = record(Escrow, {
    beneficiary: req.beneficiary,
    controller: req.controller,
    createdAt: ledger.now,
    depositor: caller.account,
    escrowId: req.escrowId,
    expiry: req.expiry,
    hashlock,
    isin: req.isin,
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
  await ledger.credit(escrow.beneficiary, escrow.isin, amount);
  const left = remaining - amount;
  const released = record(Escrow, {
    ...escrow,
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
