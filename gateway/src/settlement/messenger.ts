/**
 * Gateway-to-gateway settlement messages (lock notice, preimage relay): the port a settlement
 * mode sends through. Gateway messaging (messaging/outbox.ts: signed, chained, mutually
 * authenticated) implements it; the HTLC tests use an in-process hub (htlc/__tests__/hub.ts).
 * A message is a hint only: whatever it claims about a ledger is checked on that ledger.
 */

/** Message types of the HTLC mode. */
export type HtlcMessageType = 'lock_notice' | 'preimage';

/**
 * Message types of the orchestrated escrow (escrow-orchestrated/protocol.ts): bank → manager
 * `register`, `deposited`; manager → bank `instructions`, `decision`; manager → notary
 * `approval_request`; notary → manager `approval`; anyone → observer `record`.
 */
export type EscrowMessageType =
  'register' | 'instructions' | 'deposited' | 'approval_request' | 'approval' | 'decision' | 'record';

/** Every settlement message type. */
export type SettlementMessageType = HtlcMessageType | EscrowMessageType;

/** A settlement message as sent; the transport adds the sender and the recipient. */
export interface OutgoingMessage {
  readonly tradeId: string;
  readonly type: SettlementMessageType;
  readonly body: Readonly<Record<string, string>>;
}

/** Sends settlement messages to another party's gateway. Resolves once delivered. */
export interface SettlementMessenger {
  send(toParty: string, message: OutgoingMessage): Promise<void>;
}
