/**
 * Chaincode events. Fabric keeps only the last `setEvent` of a transaction, so each transaction
 * emits exactly one event: its name is the event type and its payload is canonical JSON with
 * `type`, `txId`, `timestamp` and everything an off-chain watcher needs (see README).
 */
import type { Context } from 'fabric-contract-api';

import { canonicalBytes } from './canonical';

/** Event types, past tense. */
export type EventType =
  | 'PolicyProposed'
  | 'PolicyApproved'
  | 'PolicySet'
  | 'InstrumentCreated'
  | 'AccountOpened'
  | 'Issued'
  | 'Redeemed'
  | 'Transferred'
  | 'HTLCLocked'
  | 'HTLCClaimed'
  | 'HTLCRefunded'
  | 'EscrowDeposited'
  | 'EscrowApproved'
  | 'EscrowReleased'
  | 'EscrowReturned';

/** Emits the transaction's single event. */
export function emit(ctx: Context, type: EventType, data: Readonly<Record<string, unknown>>): void {
  const ts = ctx.stub.getTxTimestamp();
  const payload = { ...data, type, txId: ctx.stub.getTxID(), timestamp: Number(ts.seconds.toString()) };
  ctx.stub.setEvent(type, canonicalBytes(payload));
}
