/**
 * The securities chaincode's error codes as scenario codes, for both chaincode drivers (the
 * in-memory stub and the real peers): a rejected transaction's message carries the chaincode's
 * wire format `CODE: text {...}`, wherever the peer or the SDK wrapped it.
 */
import { parseChaincodeError } from '../../../chaincode/fabric/src/errors';
import type { ErrorCode } from '../../../chaincode/fabric/src/errors';
import { ScenarioError } from './driver';
import type { ScenarioErrorCode } from './driver';

/** Chaincode codes → scenario codes; exhaustive, so a new chaincode code must be mapped here. */
export const CHAINCODE_SCENARIO_CODES: Readonly<Record<ErrorCode, ScenarioErrorCode>> = {
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
};

/**
 * The {@link ScenarioError} for the first of `messages` that carries a chaincode code, or
 * undefined when none does (then the failure is not the chaincode's answer).
 */
export function chaincodeScenarioError(messages: readonly string[], cause?: unknown): ScenarioError | undefined {
  for (const message of messages) {
    const parsed = parseChaincodeError(message);
    if (parsed !== undefined) {
      return new ScenarioError(CHAINCODE_SCENARIO_CODES[parsed.code], message, cause === undefined ? {} : { cause });
    }
  }
  return undefined;
}
