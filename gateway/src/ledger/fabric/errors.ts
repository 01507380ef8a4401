/**
 * Fabric failures as {@link LedgerError}s. A chaincode rejection reaches the client inside the
 * gateway's error (message or per-peer details) in the securities chaincode's wire format
 * `CODE: text {"code":"CODE",...context}`; it is found wherever it is wrapped and mapped code for
 * code. Without a chaincode code, transport failures are `UNAVAILABLE` (retry later) and
 * anything else `REVERTED`.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { GatewayError } from '@hyperledger/fabric-gateway';
import { LedgerError, type LedgerErrorCode } from '../errors';

/**
 * Chaincode error codes (`chaincode/fabric/src/errors.ts` ERROR_CODES) → ledger codes. The test
 * types this against the chaincode's `ErrorCode`, so a new chaincode code fails to compile there
 * until it is mapped here.
 */
export const FABRIC_ERROR_CODES = {
  INSUFFICIENT_BALANCE: 'INSUFFICIENT_BALANCE',
  LOCK_EXPIRED: 'LOCK_EXPIRED',
  LOCK_NOT_EXPIRED: 'LOCK_NOT_EXPIRED',
  BAD_PREIMAGE: 'BAD_PREIMAGE',
  NOT_AUTHORIZED: 'NOT_AUTHORIZED',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  NOT_FOUND: 'NOT_FOUND',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  ALREADY_SETTLED: 'ALREADY_SETTLED',
  EXCEEDS_ESCROW: 'EXCEEDS_ESCROW',
  NOT_APPROVED: 'NOT_APPROVED',
} as const satisfies Readonly<Record<string, LedgerErrorCode>>;

/** A chaincode code known to this gateway. */
export type FabricChaincodeCode = keyof typeof FABRIC_ERROR_CODES;

/** A chaincode error found in a message. */
export interface FabricChaincodeError {
  readonly code: FabricChaincodeCode;
  readonly text: string;
  readonly data: Readonly<Record<string, string>>;
}

const WIRE = /^([A-Z_]+): (.*?)(?: (\{.*\}))?$/s;
/** gRPC statuses of a failure the chaincode did not answer, for which a later attempt may succeed. */
const TRANSIENT: ReadonlySet<number> = new Set([
  grpcStatus.CANCELLED,
  grpcStatus.UNKNOWN,
  grpcStatus.DEADLINE_EXCEEDED,
  grpcStatus.RESOURCE_EXHAUSTED,
  grpcStatus.INTERNAL,
  grpcStatus.UNAVAILABLE,
]);

/** A peer's refusal of the caller itself (revoked, unknown or malformed creator, ACL): final. */
const REFUSED_CALLER = /access denied|creator (org unknown|is malformed)|certificate has been revoked/i;

/**
 * An endorsement that failed for want of peers, not by any peer's decision (e.g. the gateway's
 * discovery not yet knowing the other org's peer): a later attempt may succeed.
 */
const NO_ENDORSERS = /no peers available|no combination of peers|failed to collect enough|connection (refused|error)/i;

/** The ledger error code of a gateway failure that carries no chaincode error. */
function gatewayCode(err: GatewayError, messages: readonly string[]): LedgerErrorCode {
  if (messages.some((m) => REFUSED_CALLER.test(m))) return 'NOT_AUTHORIZED';
  if (TRANSIENT.has(err.code)) return 'UNAVAILABLE';
  if (err.code === grpcStatus.PERMISSION_DENIED) return 'NOT_AUTHORIZED';
  if (err.code === grpcStatus.ABORTED && messages.some((m) => NO_ENDORSERS.test(m))) return 'UNAVAILABLE';
  return 'REVERTED';
}

function flat(data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof data !== 'object' || data === null) return out;
  for (const [k, v] of Object.entries(data)) if (k !== 'code') out[k] = String(v);
  return out;
}

/** Finds a chaincode error in `message` (e.g. `chaincode response 500, LOCK_EXPIRED: ...`). */
export function parseFabricChaincodeError(message: string): FabricChaincodeError | undefined {
  for (const code of Object.keys(FABRIC_ERROR_CODES) as FabricChaincodeCode[]) {
    const at = message.indexOf(`${code}: `);
    if (at < 0) continue;
    // The JSON context ends the chaincode message; the peer may append nothing after it.
    const match = WIRE.exec(message.slice(at).split('\n')[0] ?? '');
    if (match === null) continue;
    let data: Record<string, string> = {};
    try {
      data = match[3] === undefined ? {} : flat(JSON.parse(match[3]));
    } catch {
      data = {};
    }
    return { code, text: match[2] ?? '', data };
  }
  return undefined;
}

/** Every message an error carries: its own, its causes' and the gateway's per-peer details. */
export function messagesOf(err: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    out.push(e.message);
    if (e instanceof GatewayError) out.push(...e.details.map((d) => d.message));
  }
  if (!(err instanceof Error)) out.push(String(err));
  return out;
}

/** Maps any failure of a Fabric call to a {@link LedgerError} (an existing one is returned as is). */
export function toFabricLedgerError(
  err: unknown,
  action: string,
  context: Readonly<Record<string, string>>,
): LedgerError {
  if (err instanceof LedgerError) return err;
  const messages = messagesOf(err);
  for (const message of messages) {
    const found = parseFabricChaincodeError(message);
    if (found === undefined) continue;
    const ctx = { ...found.data, ...context, errorName: found.code };
    return new LedgerError(
      FABRIC_ERROR_CODES[found.code],
      'fabric',
      `${action} rejected: ${found.code}: ${found.text}`,
      ctx,
      {
        cause: err,
      },
    );
  }
  const text = `${action} failed: ${messages[0] ?? 'unknown error'}`;
  const code: LedgerErrorCode = err instanceof GatewayError ? gatewayCode(err, messages) : 'UNAVAILABLE';
  return new LedgerError(code, 'fabric', text, context, { cause: err });
}
