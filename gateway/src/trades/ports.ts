/**
 * The trade use case's ports: {@link TradeService}, what the HTTP layer calls, and what the use
 * case needs from gateway messaging, declared here and implemented there (messaging/outbox.ts
 * sends, messaging/inbox.ts delivers): trades/ never imports api/ or messaging/.
 */
import type { Actor, AuditPage, AuditQuery, SubmitResult, Trade, TradeInstruction, TradeQuery } from '../core/trade';

/** Messages of matching and cancel that the trade use case sends to a counterparty's gateway. */
export type TradeMessageType = 'proposal' | 'affirmation' | 'cancel';

/**
 * The way to a counterparty's gateway: `queue` stores a message durably (signed, chained; the same
 * content queued twice is one message), `flush` tries to deliver what is pending for the trade. A
 * failed flush is retried by the channel itself.
 */
export interface CounterpartyChannel {
  queue(to: string, tradeId: string, type: TradeMessageType, body: Readonly<Record<string, string>>): unknown;
  flush(to: string, tradeId: string): Promise<unknown>;
}

/** A message from a counterparty's gateway, already verified (signature, chain, signer). */
export interface CounterpartyMessage {
  readonly envelope: {
    readonly type: string;
    readonly tradeId: string;
    readonly from: string;
    readonly body: Readonly<Record<string, string>>;
  };
  /** The verified signer: the sending party's `gateway` certificate. */
  readonly signer: Actor;
}

/** The channel of a gateway without messaging: nothing is sent, so trades stay unmatched. */
export const NO_COUNTERPARTY_CHANNEL: CounterpartyChannel = {
  queue: () => undefined,
  flush: async () => undefined,
};

export interface TradeService {
  /**
   * Records an instruction once per idempotency key: same key + same instruction returns the
   * first result (`replayed: true`); same key + a different instruction throws
   * `IDEMPOTENCY_CONFLICT`. Safe under concurrent calls with the same key.
   */
  submit(actor: Actor, idempotencyKey: string, instruction: TradeInstruction): Promise<SubmitResult>;
  /** A trade of the gateway's party, or `TRADE_NOT_FOUND`. */
  get(tradeId: string): Promise<Trade>;
  list(query: TradeQuery): Promise<readonly Trade[]>;
  cancel(actor: Actor, tradeId: string): Promise<Trade>;
  audit(query: AuditQuery): Promise<AuditPage>;
}
