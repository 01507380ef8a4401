/**
 * One behaviour, two ledgers: the interface the shared HTLC/escrow scenario table drives.
 *
 * Each on-ledger implementation (securities chaincode, EVM cash contracts) has a driver that
 * implements {@link LedgerDriver}. The table in `table.ts` runs unchanged against every driver, so
 * the two implementations provably behave alike. Drivers translate their ledger's native failure
 * (chaincode error code, Solidity custom error) into a {@link ScenarioErrorCode}.
 */

/** The actors of a scenario. Each driver binds them to identities/keys on its ledger. */
export type Actor = 'alice' | 'bob' | 'carol' | 'manager' | 'notary';

/**
 * Failure codes shared by both ledgers. A driver throws {@link ScenarioError} with one of these.
 * - `INSUFFICIENT_BALANCE`: lock/deposit more than the free balance.
 * - `INVALID_ARGUMENT`: zero amount, malformed hashlock/preimage (e.g. preimage not 32 bytes),
 *   expiry not in the future, unknown account.
 * - `BAD_PREIMAGE`: a 32-byte preimage whose SHA-256 is not the hashlock.
 * - `LOCK_EXPIRED`: claim/release at or after expiry.
 * - `LOCK_NOT_EXPIRED`: refund/return by the depositor before expiry.
 * - `NOT_AUTHORIZED`: caller may not do this (release by a stranger, return by a non-controller
 *   before expiry is `LOCK_NOT_EXPIRED` only if the caller is the depositor).
 * - `ALREADY_SETTLED`: the lock/escrow was already claimed, refunded, released or returned.
 * - `ALREADY_EXISTS`: the lock id is taken, or the depositor already has an escrow for the trade.
 * - `NOT_FOUND`: no such lock/escrow.
 * - `EXCEEDS_ESCROW`: release of more than what remains in escrow.
 * - `NOT_APPROVED`: a release from an escrow with a notary, without the notary's unused approval
 *   of exactly that amount.
 */
export type ScenarioErrorCode =
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

/** Thrown by drivers when the ledger rejects an operation. */
export class ScenarioError extends Error {
  constructor(
    readonly code: ScenarioErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'ScenarioError';
  }
}

export interface LockParams {
  readonly receiver: Actor;
  readonly amount: bigint;
  /** 0x-prefixed hex SHA-256 of the preimage (32 bytes). */
  readonly hashlock: `0x${string}`;
  /** Unix seconds. */
  readonly expiry: bigint;
}

export interface DepositParams {
  readonly tradeId: string;
  readonly amount: bigint;
  readonly beneficiary: Actor;
  readonly controller: Actor;
  /** Unix seconds after which the depositor may take the funds back. */
  readonly expiry: bigint;
  /** When set, a release may also be made by anyone presenting the preimage. */
  readonly hashlock?: `0x${string}`;
  /** When set, every release needs this actor's approval of its amount. */
  readonly notary?: Actor;
}

/** Conservation figures for the scenario's one asset (ISIN or ERC-20). */
export interface Totals {
  readonly free: bigint;
  readonly locked: bigint;
  readonly escrowed: bigint;
  /** issued - redeemed */
  readonly supply: bigint;
}

/** {@link Totals} from the chaincode's `SupplyBreakdown` JSON (decimal strings). */
export function totalsOf(supplyBreakdownJson: string): Totals {
  const raw = JSON.parse(supplyBreakdownJson) as Partial<Record<keyof Totals, string>>;
  const field = (k: keyof Totals): bigint => {
    const v = raw[k];
    if (v === undefined) throw new Error(`SupplyBreakdown has no ${k}`);
    return BigInt(v);
  };
  return { free: field('free'), locked: field('locked'), escrowed: field('escrowed'), supply: field('supply') };
}

export interface LedgerDriver {
  readonly name: string;
  /**
   * Starts a fresh scenario: a new asset, `alice` holding `initial` free units, nobody else
   * holding anything. Called before every scenario.
   */
  reset(initial: bigint): Promise<void>;
  /** Ledger time (unix seconds) that the next operation will see, as best the driver knows. */
  now(): Promise<bigint>;
  /**
   * Makes the next operation happen at exactly `time` (unix seconds, >= now). Test-only: anvil's
   * `evm_setNextBlockTimestamp`, the stub's transaction timestamp, or waiting on a real peer.
   */
  setTime(time: bigint): Promise<void>;
  freeBalance(who: Actor): Promise<bigint>;
  totals(): Promise<Totals>;

  /** Returns the lock id (chaincode: the id passed in; EVM: the id the contract derived). */
  lock(sender: Actor, params: LockParams): Promise<string>;
  /** `preimage` is raw bytes as hex, of any length (the table also sends wrong lengths). */
  claim(caller: Actor, lockId: string, preimage: `0x${string}`): Promise<void>;
  refund(caller: Actor, lockId: string): Promise<void>;

  /**
   * Returns the escrow id the ledger derived from the depositor and the trade id: one escrow per
   * depositor and trade, so nobody can take another depositor's id first.
   */
  deposit(depositor: Actor, params: DepositParams): Promise<string>;
  /**
   * The notary approves one release of `amount` from the escrow: on Fabric a transaction
   * (`EscrowApprove`); on the EVM an EIP-712 signature, kept by the driver and passed with the
   * escrow's next release.
   */
  approve(notary: Actor, escrowId: string, amount: bigint): Promise<void>;
  release(caller: Actor, escrowId: string, amount: bigint, preimage?: `0x${string}`): Promise<void>;
  returnFunds(caller: Actor, escrowId: string): Promise<void>;
}

/**
 * How the table runs on a ledger whose clock cannot be moved (a real Fabric peer: the chaincode's
 * time is the proposal's timestamp, the client's wall clock), where `setTime` waits for the wall
 * clock. Lifetimes are shortened so that waiting for an expiry takes seconds, and scenarios
 * overlap, each on its own driver (and so its own asset).
 */
export interface RealTimeSchedule {
  /**
   * Lifetime in seconds of lock and deposit steps that give no `expiresIn`, in place of the
   * table's 3600: longer than the steps before a `warp` take on this ledger, so every relative
   * offset (one second before, at, one second after the expiry) is still reachable.
   */
  readonly defaultExpiresIn: bigint;
  /** How many scenarios run at once. */
  readonly concurrency: number;
  /** Jest timeout of one scenario, in ms (it may also wait for a free slot). */
  readonly timeoutMs: number;
}
