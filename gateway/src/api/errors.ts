/**
 * Every error the HTTP layer can answer with: the codes of the layers below (trades, trust,
 * messaging, the observer's records) plus the request codes of this layer, each mapped to one HTTP status. The map is a
 * `Record<ApiErrorCode, ...>`, so adding a code does not compile until it is mapped. A ledger's
 * own codes (`LedgerErrorCode`) are not the caller's business: {@link LEDGER_ANSWERS} maps each to
 * `LEDGER_UNAVAILABLE` or `LEDGER_REJECTED`, with the ledger and its code in the details.
 */
import { DvpError, type ErrorContext, type TradeErrorCode } from '../core/errors';
import { LedgerError, type LedgerErrorCode } from '../ledger/errors';
import type { MessagingErrorCode } from '../messaging/errors';
import type { IdentityErrorCode } from '../trust/errors';
import type { RecordErrorCode } from '../settlement/observer/record';

/** Why a request was refused before it reached the engine. */
export type RequestErrorCode =
  | 'MALFORMED_JSON'
  | 'VALIDATION_FAILED'
  | 'IDEMPOTENCY_KEY_REQUIRED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PEER_MESSAGING_DISABLED'
  | 'ROLE_NOT_SERVED'
  | 'LEDGER_REJECTED'
  | 'INTERNAL';

/** Every code an error body can carry: the codes of every layer below and of this one. */
export type ApiErrorCode = TradeErrorCode | IdentityErrorCode | MessagingErrorCode | RecordErrorCode | RequestErrorCode;

/** HTTP status and a short default message per code. */
export const ERROR_HTTP: Readonly<Record<ApiErrorCode, { readonly status: number; readonly title: string }>> = {
  TRADE_NOT_FOUND: { status: 404, title: 'trade not found' },
  TRADE_EXISTS: { status: 409, title: 'a trade with this id already exists' },
  IDEMPOTENCY_CONFLICT: { status: 409, title: 'idempotency key reused with a different request' },
  INVALID_TRANSITION: { status: 409, title: 'the trade cannot make this transition in its current status' },
  UNKNOWN_COUNTERPARTY: { status: 400, title: 'counterparty is not in the directory' },
  UNSUPPORTED_INSTRUCTION: { status: 400, title: 'this gateway cannot settle the instrument or currency' },
  FORBIDDEN_PARTY: { status: 403, title: 'the caller may not act for this party' },
  LEDGER_UNAVAILABLE: { status: 503, title: 'a ledger is unavailable' },
  LEDGER_REJECTED: { status: 502, title: 'a ledger refused what this gateway asked of it' },
  CLIENT_CERT_REQUIRED: { status: 401, title: 'a client certificate is required' },
  CERT_INVALID: { status: 401, title: 'the client certificate cannot be parsed' },
  CERT_UNTRUSTED: { status: 401, title: 'the client certificate is not issued by a trusted CA' },
  CERT_EXPIRED: { status: 401, title: 'the client certificate has expired' },
  CERT_NOT_YET_VALID: { status: 401, title: 'the client certificate is not valid yet' },
  CERT_REVOKED: { status: 401, title: 'the client certificate is revoked' },
  REVOCATION_UNAVAILABLE: { status: 401, title: 'revocation status of the client certificate is unknown' },
  CERT_USAGE: { status: 401, title: 'the client certificate is not usable for client authentication' },
  CERT_NOT_IN_DIRECTORY: { status: 401, title: 'the client certificate is not listed in the directory' },
  PARTY_MISMATCH: { status: 403, title: 'the certificate does not belong to the party it claims' },
  PARTY_NOT_SERVED: { status: 403, title: 'this gateway does not serve the caller’s party' },
  ROLE_FORBIDDEN: { status: 403, title: 'the caller’s role may not call this route' },
  MALFORMED_JSON: { status: 400, title: 'the request body is not valid JSON' },
  VALIDATION_FAILED: { status: 400, title: 'the request does not match the API description' },
  IDEMPOTENCY_KEY_REQUIRED: { status: 400, title: 'the Idempotency-Key header is required' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'the request body must be application/json' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'the request body is too large' },
  ROUTE_NOT_FOUND: { status: 404, title: 'no such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'the route does not take this method' },
  INTERNAL: { status: 500, title: 'internal error' },
  MESSAGE_MISADDRESSED: { status: 400, title: 'the message is addressed to another party' },
  MESSAGE_SIGNATURE_INVALID: { status: 401, title: 'the message signature does not verify' },
  MESSAGE_SENDER_MISMATCH: { status: 403, title: 'the message was not signed by the sending party’s gateway' },
  MESSAGE_REPLAYED: { status: 409, title: 'this message was accepted before' },
  MESSAGE_OUT_OF_ORDER: { status: 409, title: 'the message is not the next link of its chain' },
  TOO_MANY_PROPOSALS: { status: 429, title: 'too many proposals wait for an instruction here' },
  MESSAGE_NOT_PROCESSABLE: { status: 503, title: 'this gateway cannot act on the message now; send it again later' },
  PEER_MESSAGING_DISABLED: { status: 503, title: 'this gateway does not accept gateway messages' },
  ROLE_NOT_SERVED: { status: 404, title: 'this gateway does not run the role this route belongs to' },
  RECORD_INVALID: { status: 400, title: 'the record is outside the observer’s vocabulary' },
};

/**
 * How a ledger's failure reaches an API caller: a node that cannot be reached is `LEDGER_UNAVAILABLE`
 * (try again later); any refusal is `LEDGER_REJECTED` (the gateway's request was wrong for the
 * ledger's state, not the caller's request). Exhaustive over {@link LedgerErrorCode}.
 */
export const LEDGER_ANSWERS: Readonly<Record<LedgerErrorCode, 'LEDGER_UNAVAILABLE' | 'LEDGER_REJECTED'>> = {
  UNAVAILABLE: 'LEDGER_UNAVAILABLE',
  INSUFFICIENT_BALANCE: 'LEDGER_REJECTED',
  INVALID_ARGUMENT: 'LEDGER_REJECTED',
  BAD_PREIMAGE: 'LEDGER_REJECTED',
  LOCK_EXPIRED: 'LEDGER_REJECTED',
  LOCK_NOT_EXPIRED: 'LEDGER_REJECTED',
  NOT_AUTHORIZED: 'LEDGER_REJECTED',
  ALREADY_SETTLED: 'LEDGER_REJECTED',
  ALREADY_EXISTS: 'LEDGER_REJECTED',
  NOT_FOUND: 'LEDGER_REJECTED',
  EXCEEDS_ESCROW: 'LEDGER_REJECTED',
  NOT_APPROVED: 'LEDGER_REJECTED',
  REVERTED: 'LEDGER_REJECTED',
  MISMATCH: 'LEDGER_REJECTED',
};

/** An error raised by the HTTP layer itself (routing, body, validation). */
export class RequestError extends DvpError<RequestErrorCode> {
  constructor(code: RequestErrorCode, message: string, context?: ErrorContext, options?: ErrorOptions) {
    super(code, message, context, options);
  }
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  readonly error: { readonly code: ApiErrorCode; readonly message: string; readonly details?: unknown };
}

/** An error turned into what goes on the wire. */
export interface HttpError {
  readonly status: number;
  readonly body: ErrorBody;
  /** True for errors the caller did not cause (logged at error level). */
  readonly unexpected: boolean;
}

/** Fields body-parser puts on its errors (express.json()). */
interface BodyParserError {
  readonly type?: unknown;
  readonly status?: unknown;
  /** The raw body, on a parse failure. */
  readonly body?: unknown;
}

/** Strict parsing refuses valid JSON that is not an object or array (`5`, `"x"`, `null`): say so. */
function isJsonButNoObject(err: BodyParserError): boolean {
  if (typeof err.body !== 'string') return false;
  try {
    JSON.parse(err.body);
    return true;
  } catch {
    return false;
  }
}

function bodyParserCode(err: unknown): RequestErrorCode | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const type = (err as BodyParserError).type;
  if (type === 'entity.parse.failed') return 'MALFORMED_JSON';
  if (type === 'entity.too.large') return 'PAYLOAD_TOO_LARGE';
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return 'UNSUPPORTED_MEDIA_TYPE';
  if (typeof type === 'string' && (err as BodyParserError).status === 400) return 'MALFORMED_JSON';
  return undefined;
}

function body(code: ApiErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/**
 * Maps anything thrown by a route to a status and body. Engine errors keep their message and
 * context (trade id etc.); unknown errors become a 500 whose message reveals nothing.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof LedgerError) {
    const code = LEDGER_ANSWERS[err.code];
    const details = { ...err.context, ledger: err.ledger, ledgerCode: err.code };
    return { status: ERROR_HTTP[code].status, body: body(code, err.message, details), unexpected: true };
  }
  if (err instanceof DvpError && Object.hasOwn(ERROR_HTTP, err.code)) {
    const code = err.code as ApiErrorCode;
    const details = Object.keys(err.context).length ? err.context : undefined;
    const { status } = ERROR_HTTP[code];
    return { status, body: body(code, err.message, details), unexpected: status >= 500 };
  }
  if (bodyParserCode(err) === 'MALFORMED_JSON' && isJsonButNoObject(err as BodyParserError)) {
    const message = 'the request body is JSON but not an object';
    return { status: 400, body: body('VALIDATION_FAILED', message, { in: 'body', field: 'body' }), unexpected: false };
  }
  const parserCode = bodyParserCode(err);
  if (parserCode !== undefined) {
    return {
      status: ERROR_HTTP[parserCode].status,
      body: body(parserCode, ERROR_HTTP[parserCode].title),
      unexpected: false,
    };
  }
  return { status: 500, body: body('INTERNAL', ERROR_HTTP.INTERNAL.title), unexpected: true };
}
