/**
 * The record vocabulary of the orchestrated escrow: what the manager and the banks tell the
 * observer, one step of a trade per `record` message (the manager: every step it takes; a bank:
 * its deposit, and the releases and returns it makes itself). A record's body is a string map (the
 * message body); {@link recordBody} builds one, {@link parseRecord} checks a received one and
 * refuses anything outside this vocabulary with a {@link RecordError}.
 */
import { DvpError } from '../../core/errors';
import type { LedgerName, LegName } from '../../core/trade';
import type { EscrowView } from '../../ledger/connector';

/** The steps of a trade an observer is told of, in protocol order (escrow-orchestrated/README.md). */
export const RECORD_STEPS = [
  'registered',
  'instructed',
  'deposited',
  'deposit_verified',
  'deposit_refused',
  'notary_asked',
  'notary_answered',
  'decided',
  'released',
  'returned',
] as const;
export type RecordStep = (typeof RECORD_STEPS)[number];

/** The manager's decision. */
export type RecordDecision = 'commit' | 'abort';

/** A record, parsed: amounts are bigint, everything else as on the wire. */
export interface ObserverRecord {
  readonly step: RecordStep;
  /** The trade's terms hash (canonical SHA-256, lower-case hex). */
  readonly termsHash: string;
  readonly leg?: LegName;
  readonly ledger?: LedgerName;
  readonly escrowId?: string;
  readonly txId?: string;
  /** Block number, decimal. */
  readonly block?: string;
  /** In the asset's smallest unit. */
  readonly amount?: bigint;
  readonly beneficiary?: string;
  readonly depositor?: string;
  /** The escrow's state when the sender recorded the step. */
  readonly state?: EscrowView['state'];
  readonly decision?: RecordDecision;
  readonly reason?: string;
  /** ISO 8601: when the step happened at the sender. */
  readonly at: string;
}

/** Fields of {@link recordBody}: a record whose optional fields may also be given as undefined. */
export type RecordFields = { readonly [K in keyof ObserverRecord]: ObserverRecord[K] | OptionalUndefined<K> };

/** `undefined` for the optional fields of a record, `never` for the required ones. */
type OptionalUndefined<K extends keyof ObserverRecord> = object extends Pick<ObserverRecord, K> ? undefined : never;

/** Why a record was refused. */
export type RecordErrorCode = 'RECORD_INVALID';

/** A refused record; `context` names the field and, when known, the trade and the sender. */
export class RecordError extends DvpError<RecordErrorCode> {
  constructor(
    code: RecordErrorCode,
    message: string,
    override readonly context: Readonly<Record<string, string>> = {},
  ) {
    super(code, message, context);
  }
}

const UINT256_MAX = (1n << 256n) - 1n;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const MAX_TEXT = 1024;

/** A field's check: undefined when `value` is fine, else what it must be. */
type Check = (value: string) => string | undefined;

const oneOf =
  (allowed: readonly string[]): Check =>
  (value) =>
    allowed.includes(value) ? undefined : `must be one of ${allowed.join(', ')}`;

const decimal: Check = (value) =>
  /^(0|[1-9][0-9]{0,77})$/.test(value) && BigInt(value) <= UINT256_MAX
    ? undefined
    : 'must be a decimal integer string (no sign, fraction or leading zeros) of at most 2^256 - 1';

const text: Check = (value) =>
  value.length > 0 && value.length <= MAX_TEXT ? undefined : `must be 1 to ${MAX_TEXT} characters`;

const sha256Hex: Check = (value) => (/^[0-9a-f]{64}$/.test(value) ? undefined : 'must be 64 lower-case hex digits');

const isoTime: Check = (value) =>
  ISO_TIME.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : 'must be an ISO 8601 date and time';

/** Every field of a record and its check: a field missing here does not compile. */
const CHECKS: { readonly [K in keyof ObserverRecord]-?: Check } = {
  step: oneOf(RECORD_STEPS),
  termsHash: sha256Hex,
  leg: oneOf(['securities', 'cash'] satisfies LegName[]),
  ledger: oneOf(['fabric', 'evm'] satisfies LedgerName[]),
  escrowId: text,
  txId: text,
  block: decimal,
  amount: decimal,
  beneficiary: text,
  depositor: text,
  state: oneOf(['held', 'released', 'returned'] satisfies EscrowView['state'][]),
  decision: oneOf(['commit', 'abort'] satisfies RecordDecision[]),
  reason: text,
  at: isoTime,
};

const REQUIRED: readonly (keyof ObserverRecord)[] = ['step', 'termsHash', 'at'];

const isField = (key: string): key is keyof ObserverRecord => Object.hasOwn(CHECKS, key);

/** The first problem of `body`, as [field, what is wrong], or undefined when it is a record. */
function problemOf(body: Readonly<Record<string, string>>): readonly [string, string] | undefined {
  for (const field of REQUIRED) if (body[field] === undefined) return [field, 'is required'];
  for (const [field, value] of Object.entries(body)) {
    if (!isField(field)) return [field, 'is not a record field'];
    if (typeof value !== 'string') return [field, 'must be a string'];
    const problem = CHECKS[field](value);
    if (problem !== undefined) return [field, problem];
  }
  return undefined;
}

/**
 * Checks a received record body and returns the record. Throws {@link RecordError}
 * `RECORD_INVALID` naming the first wrong field: a missing `step`, `termsHash` or `at`, a field
 * outside the vocabulary, an unknown step, leg, ledger, state or decision, an amount or block that
 * is not a decimal integer, a terms hash that is not a SHA-256, a time that is not ISO 8601.
 * `context` (trade id, sender) is added to the error's.
 */
export function parseRecord(
  body: Readonly<Record<string, string>>,
  context: Readonly<Record<string, string>> = {},
): ObserverRecord {
  const problem = problemOf(body);
  if (problem) {
    const [field, what] = problem;
    throw new RecordError('RECORD_INVALID', `record field '${field}' ${what}`, { ...context, field });
  }
  const { amount, ...rest } = body;
  // Every field was checked against CHECKS above, so the strings are of the record's types.
  return { ...rest, ...(amount !== undefined && { amount: BigInt(amount) }) } as unknown as ObserverRecord;
}

/**
 * The message body of a record: amounts as decimal strings, undefined fields left out. Throws
 * {@link RecordError} when the result would not parse, so a sender never queues a record the
 * observer refuses.
 */
export function recordBody(fields: RecordFields): Record<string, string> {
  const body: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) body[key] = String(value);
  }
  parseRecord(body);
  return body;
}
