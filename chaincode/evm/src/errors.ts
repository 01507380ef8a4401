/**
 * Maps every custom error the cash contracts (and the OpenZeppelin code they use) can revert with
 * to the failure codes shared with the securities chaincode.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  type Abi,
  type ContractErrorName,
  type Hex,
} from 'viem';
import { cashTokenAbi } from './generated/cash-token';
import { hashedTimelockAbi } from './generated/hashed-timelock';
import { settlementEscrowAbi } from './generated/settlement-escrow';

/** Failure codes shared by both ledgers (same strings as the chaincode's and the scenario table's). */
export type CashErrorCode =
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
  | 'NOT_APPROVED';

/** Name of any custom error in the three contracts' ABIs. */
export type CashErrorName =
  | ContractErrorName<typeof cashTokenAbi>
  | ContractErrorName<typeof hashedTimelockAbi>
  | ContractErrorName<typeof settlementEscrowAbi>;

/**
 * Error name → shared code. Exhaustive by type: a new error in any ABI does not compile until it
 * is mapped here.
 */
export const CASH_ERROR_CODES: { readonly [N in CashErrorName]: CashErrorCode } = {
  // OpenZeppelin ERC-20 (ERC-6093), AccessControl, SafeERC20, ReentrancyGuard, ShortStrings
  ERC20InsufficientBalance: 'INSUFFICIENT_BALANCE',
  ERC20InsufficientAllowance: 'NOT_AUTHORIZED',
  ERC20InvalidApprover: 'INVALID_ARGUMENT',
  ERC20InvalidReceiver: 'INVALID_ARGUMENT',
  ERC20InvalidSender: 'INVALID_ARGUMENT',
  ERC20InvalidSpender: 'INVALID_ARGUMENT',
  AccessControlUnauthorizedAccount: 'NOT_AUTHORIZED',
  AccessControlBadConfirmation: 'INVALID_ARGUMENT',
  SafeERC20FailedOperation: 'INVALID_ARGUMENT',
  ReentrancyGuardReentrantCall: 'NOT_AUTHORIZED',
  InvalidShortString: 'INVALID_ARGUMENT',
  StringTooLong: 'INVALID_ARGUMENT',
  // CashToken
  CashHolderNotPermitted: 'NOT_AUTHORIZED',
  // HashedTimelock
  HtlcZeroAmount: 'INVALID_ARGUMENT',
  HtlcInvalidReceiver: 'INVALID_ARGUMENT',
  HtlcInvalidToken: 'INVALID_ARGUMENT',
  HtlcInvalidHashlock: 'INVALID_ARGUMENT',
  HtlcInvalidExpiry: 'INVALID_ARGUMENT',
  HtlcTransferAmountMismatch: 'INVALID_ARGUMENT',
  HtlcInvalidPreimageLength: 'INVALID_ARGUMENT',
  HtlcLockNotFound: 'NOT_FOUND',
  HtlcLockExists: 'ALREADY_EXISTS',
  HtlcAlreadySettled: 'ALREADY_SETTLED',
  HtlcExpired: 'LOCK_EXPIRED',
  HtlcNotExpired: 'LOCK_NOT_EXPIRED',
  HtlcPreimageMismatch: 'BAD_PREIMAGE',
  // SettlementEscrow
  EscrowZeroAmount: 'INVALID_ARGUMENT',
  EscrowInvalidAddress: 'INVALID_ARGUMENT',
  EscrowInvalidExpiry: 'INVALID_ARGUMENT',
  EscrowTransferAmountMismatch: 'INVALID_ARGUMENT',
  EscrowInvalidPreimageLength: 'INVALID_ARGUMENT',
  EscrowAlreadyExists: 'ALREADY_EXISTS',
  EscrowNotFound: 'NOT_FOUND',
  EscrowAlreadySettled: 'ALREADY_SETTLED',
  EscrowUnauthorized: 'NOT_AUTHORIZED',
  EscrowExpired: 'LOCK_EXPIRED',
  EscrowNotExpired: 'LOCK_NOT_EXPIRED',
  EscrowExceedsRemaining: 'EXCEEDS_ESCROW',
  EscrowNoHashlock: 'NOT_AUTHORIZED',
  EscrowPreimageMismatch: 'BAD_PREIMAGE',
  EscrowInvalidNotarySignature: 'NOT_APPROVED',
};

/** Every error of the three contracts in one ABI, to decode a revert whichever contract raised it. */
export const cashErrorAbi: Abi = [...cashTokenAbi, ...hashedTimelockAbi, ...settlementEscrowAbi].filter(
  (item) => item.type === 'error',
);

/** A decoded revert of the cash contracts. */
export interface CashRevert {
  readonly name: CashErrorName;
  readonly args: readonly unknown[];
  readonly code: CashErrorCode;
}

function isCashErrorName(name: string): name is CashErrorName {
  return Object.hasOwn(CASH_ERROR_CODES, name);
}

/**
 * Decodes the custom error inside a viem error (from `writeContract`, `simulateContract`, ...),
 * including errors raised by the token during an HTLC/escrow call. Returns undefined when the
 * failure was not a known custom error (network failure, out of gas, unknown selector).
 */
export function decodeCashRevert(error: unknown): CashRevert | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  const raw: Hex | undefined = reverted instanceof ContractFunctionRevertedError ? reverted.raw : undefined;
  if (raw === undefined || raw === '0x') return undefined;
  try {
    const { errorName, args } = decodeErrorResult({ abi: cashErrorAbi, data: raw });
    if (!isCashErrorName(errorName)) return undefined;
    return { name: errorName, args: args ?? [], code: CASH_ERROR_CODES[errorName] };
  } catch {
    return undefined;
  }
}
