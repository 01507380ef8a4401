/**
 * Errors of ledger connectors: one {@link DvpError} subclass with a code, the ledger and the
 * context that matters (trade id, tx id, lock id), always with the underlying `cause`.
 */
import { DvpError } from '../core/errors';
import type { LedgerName } from '../core/trade';

/**
 * Contract/chaincode failures share the codes of `@dvp/cash-contracts` and the securities
 * chaincode (`NOT_APPROVED`: a release from an escrow with a notary without the notary's valid,
 * unused approval of that amount); `REVERTED` is a revert that could not be decoded,
 * `UNAVAILABLE` a node/network failure (retry later), `MISMATCH` an existing ledger object with
 * other terms than requested.
 */
export type LedgerErrorCode =
  | 'INSUFFICIENT_BALANCE'
  | 'INVALID_ARGUMENT'
  | 'BAD_PREIMAGE'
  | 'LOCK_EXPIRED'
  | 'LOCK_NOT_EXPIRED'
  | 'NOT_AUTHORIZED'
  | 'ALREADY_SETTLED'
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'EXCEEDS_ESCROW'
  | 'NOT_APPROVED'
  | 'REVERTED'
  | 'UNAVAILABLE'
  | 'MISMATCH';

/** A failed ledger operation. */
export class LedgerError extends DvpError<LedgerErrorCode> {
  /** Builds the error; `context` keys are e.g. `tradeId`, `txId`, `lockId`, `errorName`. */
  constructor(
    code: LedgerErrorCode,
    readonly ledger: LedgerName,
    message: string,
    override readonly context: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(code, message, context, options);
  }
}
