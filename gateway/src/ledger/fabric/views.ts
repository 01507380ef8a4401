/**
 * The securities chaincode's records (`HtlcLock`, `Escrow`: JSON with decimal-string quantities
 * and upper-case statuses) as the connector's views, the lock id derived from lock terms, and the
 * escrow id the chaincode derives from depositor and trade.
 */
import { createHash } from 'node:crypto';
import type { EscrowView, LockRequest, LockView } from '../connector';

const LOCK_STATES = { LOCKED: 'locked', CLAIMED: 'claimed', REFUNDED: 'refunded' } as const;
const ESCROW_STATES = { OPEN: 'held', RELEASED: 'released', RETURNED: 'returned' } as const;

/** Hex without `0x`, lower-case: how the chaincode stores hashlocks and preimages. */
export const bare = (hex: string): string => hex.toLowerCase().replace(/^0x/, '');

/** A lock id for terms without one: SHA-256 (hex) of the sender and the terms. */
export function derivedLockId(sender: string, request: LockRequest): string {
  const { receiver, asset, amount, hashlock, expiry } = request;
  const terms = [sender, receiver, asset, amount, bare(hashlock), expiry].map(String);
  return createHash('sha256').update(JSON.stringify(terms)).digest('hex');
}

/** The id of `depositor`'s escrow for `tradeId`, as the chaincode derives it (escrow.ts `escrowIdOf`). */
export function derivedEscrowId(depositor: string, tradeId: string): string {
  return createHash('sha256')
    .update(JSON.stringify([depositor, tradeId]))
    .digest('hex');
}

/** A chaincode `HtlcLock` as a {@link LockView}. */
export function toLockView(l: Readonly<Record<string, unknown>>): LockView {
  return {
    lockId: String(l['lockId']),
    sender: String(l['sender']),
    receiver: String(l['receiver']),
    asset: String(l['isin']),
    amount: BigInt(String(l['quantity'])),
    hashlock: String(l['hashlock']),
    expiry: Number(l['expiry']),
    state: LOCK_STATES[String(l['status']) as keyof typeof LOCK_STATES],
  };
}

/** A chaincode `Escrow` as an {@link EscrowView} (`amount` is the deposited quantity). */
export function toEscrowView(e: Readonly<Record<string, unknown>>): EscrowView {
  const hashlock = String(e['hashlock'] ?? '');
  const notary = String(e['notary'] ?? '');
  return {
    escrowId: String(e['escrowId']),
    tradeId: String(e['tradeId']),
    depositor: String(e['depositor']),
    beneficiary: String(e['beneficiary']),
    controller: String(e['controller']),
    asset: String(e['isin']),
    amount: BigInt(String(e['quantity'])),
    released: BigInt(String(e['released'])),
    expiry: Number(e['expiry']),
    ...(hashlock !== '' && { hashlock: `0x${hashlock}` }),
    ...(notary !== '' && { notary }),
    state: ESCROW_STATES[String(e['status']) as keyof typeof ESCROW_STATES],
  };
}
