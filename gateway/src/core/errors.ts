/**
 * The one error base of the gateway: every layer throws a subclass with its own code union
 * (`TradeError` here, `LedgerError` in ledger/, `IdentityError` in trust/, `MessagingError` in
 * messaging/, `RequestError` in api/), a message, the context that matters (trade id, ledger,
 * tx id, ...) and, where there is one, the underlying `cause`. api/errors.ts maps every code of
 * every layer to an HTTP status, exhaustively.
 */

/** Context of an error: short strings or numbers that identify what failed. */
export type ErrorContext = Readonly<Record<string, unknown>>;

/** Base of every error the gateway raises on purpose. */
export abstract class DvpError<Code extends string = string> extends Error {
  protected constructor(
    readonly code: Code,
    message: string,
    readonly context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Refusals of the trade use case (trades/): the instruction, its lifecycle, and the counterparty
 * messages it acts on.
 */
export type TradeErrorCode =
  | 'TRADE_NOT_FOUND'
  | 'TRADE_EXISTS'
  | 'IDEMPOTENCY_CONFLICT'
  | 'INVALID_TRANSITION'
  | 'UNKNOWN_COUNTERPARTY'
  | 'UNSUPPORTED_INSTRUCTION'
  | 'FORBIDDEN_PARTY'
  | 'LEDGER_UNAVAILABLE'
  | 'TOO_MANY_PROPOSALS'
  | 'MESSAGE_NOT_PROCESSABLE';

/** A refusal of the trade use case; `context` names the trade and what was wrong. */
export class TradeError extends DvpError<TradeErrorCode> {
  constructor(
    code: TradeErrorCode,
    message: string,
    override readonly context: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(code, message, context, options);
  }
}
