/**
 * Stable error codes of the securities chaincode and the one error type that carries them.
 *
 * Wire format (what a gateway sees in the endorsement error message):
 *
 *     CODE: human readable text {"code":"CODE",...context}
 *
 * i.e. the code, a colon, the text, one space, and a canonical JSON object (sorted keys) holding
 * the code again plus the context that matters (ids, amounts). {@link parseChaincodeError} inverts it.
 */
import { canonicalJson } from './canonical';

/** Every failure a transaction can report. Adding one here forces the gateway mapping to update. */
export const ERROR_CODES = [
  'INSUFFICIENT_BALANCE',
  'LOCK_EXPIRED',
  'LOCK_NOT_EXPIRED',
  'BAD_PREIMAGE',
  'NOT_AUTHORIZED',
  'ALREADY_EXISTS',
  'NOT_FOUND',
  'INVALID_ARGUMENT',
  'ALREADY_SETTLED',
  'EXCEEDS_ESCROW',
  'NOT_APPROVED',
] as const;

/** A stable chaincode error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Context attached to an error: flat, JSON-safe values only. */
export type ErrorData = Readonly<Record<string, string | number | boolean>>;

/** A rejected transaction with a stable {@link ErrorCode}; its message follows the wire format. */
export class ChaincodeError extends Error {
  readonly code: ErrorCode;
  readonly data: ErrorData;

  constructor(code: ErrorCode, text: string, data: ErrorData = {}) {
    super(`${code}: ${text} ${canonicalJson({ ...data, code })}`);
    this.name = 'ChaincodeError';
    this.code = code;
    this.data = data;
  }
}

/** Throws a {@link ChaincodeError}; a statement-friendly shorthand. */
export function fail(code: ErrorCode, text: string, data: ErrorData = {}): never {
  throw new ChaincodeError(code, text, data);
}

/** A parsed wire error: code, human text and JSON context (empty when absent). */
export interface ParsedChaincodeError {
  readonly code: ErrorCode;
  readonly text: string;
  readonly data: Readonly<Record<string, unknown>>;
}

const WIRE = /^([A-Z_]+): (.*?)(?: (\{.*\}))?$/s;

/**
 * Finds a chaincode error in a message (possibly wrapped by the peer or gateway SDK, e.g.
 * `chaincode response 500, LOCK_EXPIRED: ...`). Returns undefined when no known code is present.
 */
export function parseChaincodeError(message: string): ParsedChaincodeError | undefined {
  for (const code of ERROR_CODES) {
    const at = message.indexOf(`${code}: `);
    if (at < 0) continue;
    const match = WIRE.exec(message.slice(at));
    if (match === null) continue;
    let data: Record<string, unknown> = {};
    try {
      data = match[3] === undefined ? {} : (JSON.parse(match[3]) as Record<string, unknown>);
    } catch {
      data = {};
    }
    return { code, text: match[2] ?? '', data };
  }
  return undefined;
}
