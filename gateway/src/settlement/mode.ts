/**
 * The contract between the trade use case (trades/) and a settlement mode (settlement/<mode>/):
 * HTLC today, the escrow modes next. settlement/README.md says the same in prose.
 *
 * - `start(ctx, trade)` is called once, when a trade of the mode becomes `matched`. It may run
 *   until the trade is settled or failed (the engine keeps it as background work and reports its
 *   errors); it must return promptly when the mode is closed.
 * - `resume(ctx, trade, actions)` is called after a restart, for every active trade of the mode,
 *   once the journal's unfinished actions have been settled. It must return at once (start the
 *   trade's work in the background) so that one trade never delays the others or the start-up.
 * - `onMessage` and `onLedgerEvent` deliver a counterparty's signed message (already verified) and
 *   a followed ledger event; both must be idempotent (either may be delivered again after a crash)
 *   and return quickly: they record and wake, they do not wait on a ledger.
 *
 * What a mode may call is what {@link SettlementContext} lends it: the trade's record, a status
 * change or timeline note (one transaction with the audit entry), journaled ledger actions, the
 * ledger connectors' reads, and the journal of the trade. A mode never imports a ledger SDK, the
 * store's SQL or the HTTP layer (the layering test checks it); it keeps its own durable state in
 * the timeline and the journal, or behind a port it declares (HTLC: `SecretStore`).
 */
import type { JournalAction } from '../core/journal';
import type { Actor, LedgerName, LegName, SettlementModeName, Trade, TradeStatus } from '../core/trade';
import type { LedgerConnector, LedgerEvent } from '../ledger/connector';
import type { ActionOutcome, ActionSpec } from './actions';

/** A signed settlement message from another gateway, already verified. */
export interface SettlementMessage {
  readonly tradeId: string;
  readonly from: Actor;
  readonly type: string;
  readonly body: Readonly<Record<string, string>>;
}

/** A status change or timeline note requested by a settlement mode. */
export interface StepRequest {
  readonly event: string;
  /** New status; omit to only add a timeline step. */
  readonly to?: TradeStatus;
  readonly reason?: string;
  /** The leg the step concerns and the ledger it ran on (a connector's `ledger`). */
  readonly leg?: LegName;
  readonly ledger?: LedgerName;
  readonly txId?: string;
  readonly block?: string;
  readonly detail?: Readonly<Record<string, string>>;
}

/**
 * What the engine lends a settlement mode. Ledger actions go through the journal. Every trade is
 * the gateway's own party's (a store serves one party), so a trade id names it.
 */
export interface SettlementContext {
  trade(tradeId: string): Trade;
  /** Applies a step in one transaction (trade, timeline, audit), attributed to the gateway. */
  step(tradeId: string, request: StepRequest): Trade;
  /** Performs a journaled ledger action on the trade's `leg`, on the ledger that holds it. */
  perform(tradeId: string, leg: LegName, spec: ActionSpec): Promise<ActionOutcome>;
  /** The connector of the ledger holding `leg` (its `ledger` names that ledger). */
  connector(leg: LegName): LedgerConnector;
  actions(tradeId: string): readonly JournalAction[];
}

/**
 * A settlement mode (HTLC, escrow orchestration, choreography): drives a matched trade to
 * settled/failed. The contract of each method is in this file's header.
 */
export interface SettlementMode {
  readonly mode: SettlementModeName;
  /** Called once when a trade of this mode becomes `matched`. */
  start(ctx: SettlementContext, trade: Trade): Promise<void>;
  onLedgerEvent(ctx: SettlementContext, event: LedgerEvent): Promise<void>;
  onMessage(ctx: SettlementContext, message: SettlementMessage): Promise<void>;
  /** After a restart, once unfinished journal actions are settled, for each active trade. */
  resume(ctx: SettlementContext, trade: Trade, actions: readonly JournalAction[]): Promise<void>;
}
