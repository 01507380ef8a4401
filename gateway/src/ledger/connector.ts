/**
 * One interface over both ledgers (securities on Fabric, cash on an EVM chain). Settlement logic
 * depends only on this file; each implementation owns its SDK. Ids, hashes and addresses are
 * strings (hex with `0x` on the EVM), amounts are bigint in the asset's smallest unit, times are
 * unix seconds. Two kinds of holding: HTLC locks (lock, claim, refund) and escrows (deposit;
 * release by the controller or with the preimage, with the notary's approval where one is named;
 * return), plus reads and event followers.
 *
 * Implementations: `evm/connector.ts` (viem; escrow operations in `evm/escrow.ts`) and
 * `fabric/connector.ts` (fabric-gateway). In the Fabric connector the caller chooses lock ids
 * (`LockRequest.lockId`), `beforeSend` receives the proposal's transaction id and signed envelope
 * before `submit`, `resolvePrepared` asks the peer for the commit status of that transaction id,
 * and `follow` reads chaincode events from a block checkpoint kept in the same follower store.
 * Both pass the shared behaviour suite in `__tests__/connector-suite.ts`: the EVM one on anvil,
 * the Fabric one against an in-process fake of fabric-gateway running the real chaincode
 * (`fabric/__tests__/fake.ts`) and, in test/src/fabric-connector.test.ts, against the real peers. */
import type { LedgerName } from '../core/trade';

/** Terms of an HTLC lock. */
export interface LockRequest {
  /** Fabric: the caller chooses the id. EVM: ignored, the contract derives it (see {@link LockOutcome}). */
  readonly lockId?: string;
  readonly receiver: string;
  /** Asset: ERC-20 address (EVM) or ISIN (Fabric). */
  readonly asset: string;
  readonly amount: bigint;
  /** SHA-256 of the 32-byte preimage, hex (with or without 0x). */
  readonly hashlock: string;
  readonly expiry: number;
}

/** An HTLC lock as stored on its ledger. */
export interface LockView {
  readonly lockId: string;
  readonly sender: string;
  readonly receiver: string;
  readonly asset: string;
  readonly amount: bigint;
  readonly hashlock: string;
  readonly expiry: number;
  readonly state: 'locked' | 'claimed' | 'refunded';
}

/**
 * Terms of an escrow deposit. The ledger derives the escrow's id from the depositor and the trade
 * ({@link LedgerConnector.escrowIdOf}): one escrow per depositor and trade.
 */
export interface EscrowDepositRequest {
  readonly tradeId: string;
  readonly asset: string;
  readonly amount: bigint;
  readonly beneficiary: string;
  readonly controller: string;
  readonly expiry: number;
  /** Optional hashlock that also authorizes release. */
  readonly hashlock?: string;
  /** Optional notary who must approve every release. */
  readonly notary?: string;
}

/** An escrow as stored on its ledger. */
export interface EscrowView {
  readonly escrowId: string;
  readonly tradeId: string;
  readonly depositor: string;
  readonly beneficiary: string;
  readonly controller: string;
  readonly asset: string;
  readonly amount: bigint;
  readonly released: bigint;
  readonly expiry: number;
  /** The hashlock whose preimage also authorizes a release (0x-hex), when set. */
  readonly hashlock?: string;
  /** Who must approve every release, when set. */
  readonly notary?: string;
  readonly state: 'held' | 'released' | 'returned';
}

/**
 * A notary's approval of one release of an escrow. Fabric: the notary's own `EscrowApprove`
 * transaction (`outcome`), after which the release needs nothing more. EVM: the notary's EIP-712
 * signature over (escrowId, amount, the escrow's current release nonce), no transaction; whoever
 * releases passes it as `approval`.
 */
export interface ReleaseApproval {
  readonly ledger: LedgerName;
  readonly escrowId: string;
  readonly amount: bigint;
  /** EVM: the signature (0x-hex) to pass to `release` / `releaseWithPreimage`. */
  readonly signature?: string;
  /** Fabric: where the approval transaction landed. */
  readonly outcome?: TxOutcome;
}

/** Where a confirmed transaction landed. `alreadyDone`: nothing was sent, the ledger already had it. */
export interface TxOutcome {
  readonly ledger: LedgerName;
  /** Undefined only when `alreadyDone` and the earlier transaction is unknown. */
  readonly txId?: string;
  readonly block?: bigint;
  readonly alreadyDone: boolean;
}

/** Outcome of a lock: the id the ledger actually assigned. */
export interface LockOutcome extends TxOutcome {
  readonly lockId: string;
}

/** Outcome of a deposit: the escrow's id, derived from the depositor and the trade. */
export interface DepositOutcome extends TxOutcome {
  readonly escrowId: string;
}

/**
 * Called synchronously once the transaction is signed and its ids are known, before it is
 * broadcast; the journal records them here. If it throws, nothing is broadcast.
 */
export type BeforeSend = (prepared: {
  readonly ledgerRef: string;
  readonly txId: string;
  readonly payload?: string;
}) => void;

/** Per-call options of mutating operations. */
export interface SendOptions {
  readonly beforeSend?: BeforeSend;
}

/** A previously prepared transaction, as recorded by the journal. */
export interface PreparedTx {
  readonly ledgerRef: string;
  readonly txId: string;
  readonly payload?: string;
}

/**
 * Result of {@link LedgerConnector.resolvePrepared}: the transaction was confirmed (success or
 * revert), or it can never be confirmed any more, so the action may be prepared again.
 */
export type PreparedResolution =
  | { readonly status: 'confirmed'; readonly outcome: TxOutcome; readonly ledgerRef: string }
  | { readonly status: 'reverted'; readonly error: Error }
  | { readonly status: 'dropped' };

/** A ledger event, normalized. `ref` is the lock or escrow id it concerns. */
export interface LedgerEvent {
  readonly ledger: LedgerName;
  readonly stream: string;
  /** `locked`, `claimed`, `refunded`, `deposited`, `released`, `returned`. */
  readonly kind: string;
  readonly ref: string;
  readonly block: bigint;
  readonly logIndex: number;
  readonly txId: string;
  /** Event fields as strings (amounts decimal; the preimage of `claimed`, or of `released` with one, 0x-hex). */
  readonly data: Readonly<Record<string, string>>;
}

/** Receives followed events; may be called again for an event after a crash (be idempotent). */
export type LedgerEventHandler = (event: LedgerEvent) => void | Promise<void>;

/** A followed event as kept in the durable inbox: the event plus its local id. */
export interface StoredLedgerEvent extends LedgerEvent {
  readonly id: number;
}

/**
 * Where followers keep their progress (implemented by the gateway's store): a checkpoint per
 * (ledger, stream) and an inbox of the events read up to it, advanced together in one transaction.
 */
export interface CheckpointStore {
  /** The last block fully read for (ledger, stream), or undefined before the first read. */
  checkpoint(ledger: LedgerName, stream: string): bigint | undefined;
  /** Adds `events` (all from blocks up to `toBlock`) to the inbox and moves the checkpoint, at once. */
  ingest(ledger: LedgerName, stream: string, toBlock: bigint, events: readonly LedgerEvent[]): number;
  /** Inbox events of (ledger, stream) not yet handled, in ledger order. */
  unhandled(ledger: LedgerName, stream: string): readonly StoredLedgerEvent[];
  markHandled(id: number): void;
}

/** Follows one event stream from its durable checkpoint. */
export interface EventFollower {
  readonly stream: string;
  /** Reads new events into the inbox, then hands every unhandled one to the handler, in order. */
  syncOnce(): Promise<number>;
  /** Calls {@link syncOnce} every `intervalMs` until {@link stop}; errors go to `onError`. */
  start(intervalMs: number, onError?: (err: unknown) => void): void;
  /** Stops polling and waits for a running sync to end. */
  stop(): Promise<void>;
}

/** The operations a settlement needs from a ledger. Mutations wait for confirmation. */
export interface LedgerConnector {
  readonly ledger: LedgerName;
  /** The identity this connector signs with (EVM address, Fabric MSP ID + subject). */
  readonly signer: string;
  /** Locks; a retry with the same terms by the same signer returns the existing lock, `alreadyDone`. */
  lock(request: LockRequest, options?: SendOptions): Promise<LockOutcome>;
  /** Claims with a 32-byte preimage (hex); a no-op when the lock is already claimed. */
  claim(lockId: string, preimage: string, options?: SendOptions): Promise<TxOutcome>;
  /** Refunds at or after expiry; a no-op when already refunded. */
  refund(lockId: string, options?: SendOptions): Promise<TxOutcome>;
  readLock(lockId: string): Promise<LockView | undefined>;
  /** The preimage revealed by the claim of `lockId`, read from the ledger's claim event. */
  readPreimage(lockId: string): Promise<string | undefined>;
  /**
   * The id of `depositor`'s escrow for `tradeId` (default: this connector's signer, as a Fabric
   * account id or an EVM address); the ledger derives it the same way.
   */
  escrowIdOf(tradeId: string, depositor?: string): string;
  /**
   * Deposits into escrow; `alreadyDone` when this signer's escrow for the trade exists with the
   * same terms, `MISMATCH` when it exists with others.
   */
  deposit(request: EscrowDepositRequest, options?: SendOptions): Promise<DepositOutcome>;
  /**
   * Releases `amount` to the beneficiary (controller only); `approval` is the notary's signature.
   * A no-op once fully released; a retried *partial* release is only made safe by the journal
   * (`resolvePrepared` finds the first transaction), since two equal partial releases are legal.
   */
  release(escrowId: string, amount: bigint, approval?: string, options?: SendOptions): Promise<TxOutcome>;
  /**
   * Releases `amount` to the beneficiary with the 32-byte preimage (hex) of the escrow's hashlock:
   * anyone may, strictly before expiry. `approval`: the notary's EVM signature (Fabric: none, the
   * notary approved on the ledger). A no-op once fully released.
   */
  releaseWithPreimage(
    escrowId: string,
    amount: bigint,
    preimage: string,
    approval?: string,
    options?: SendOptions,
  ): Promise<TxOutcome>;
  /** The notary (this signer) approves one release of exactly `amount` ({@link ReleaseApproval}). */
  approveRelease(escrowId: string, amount: bigint, options?: SendOptions): Promise<ReleaseApproval>;
  /** The preimage (hex, 0x) revealed by a release of `escrowId`, read from its release event. */
  readEscrowPreimage(escrowId: string): Promise<string | undefined>;
  /** Returns what remains to the depositor; a no-op when already returned. */
  returnEscrow(escrowId: string, options?: SendOptions): Promise<TxOutcome>;
  readEscrow(escrowId: string): Promise<EscrowView | undefined>;
  balance(holder: string, asset: string): Promise<bigint>;
  /** Settles the fate of a transaction prepared before a restart (see {@link PreparedResolution}). */
  resolvePrepared(prepared: PreparedTx): Promise<PreparedResolution>;
  /** A follower of `stream` (EVM: `htlc` or `escrow`) over the durable checkpoint. */
  follow(stream: string, handler: LedgerEventHandler): EventFollower;
}
