/**
 * The EVM implementation of {@link LedgerConnector} over viem and plain JSON-RPC, for the cash
 * contracts of `@dvp/cash-contracts` (HashedTimelock, SettlementEscrow, CashToken).
 *
 * Idempotency: a lock's id is derived from the sender and the terms only ({@link lockIdOf}), so
 * it is known (and journaled) before the broadcast, and a retried lock reads the existing lock
 * and is a no-op (the contract would reject a second one with `HtlcLockExists`). An escrow's id
 * is derived from the depositor and the trade (`computeEscrowId`), so a retried deposit
 * finds the escrow: a no-op with the same terms, `MISMATCH` with others. Claim, refund, release
 * and return read the state first and are no-ops when already done. The escrow operations live
 * in `escrow.ts` ({@link EvmEscrows}); a notary's approval is an EIP-712 signature, no transaction.
 */
import { cashTokenAbi, hashedTimelockAbi, lockState, settlementEscrowAbi } from '@dvp/cash-contracts';
import {
  createPublicClient,
  decodeFunctionData,
  getAddress,
  isAddressEqual,
  maxUint256,
  zeroAddress,
  type Address,
  type Chain,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import type {
  DepositOutcome,
  EscrowDepositRequest,
  EscrowView,
  EventFollower,
  LedgerConnector,
  LedgerEventHandler,
  LockOutcome,
  LockRequest,
  LockView,
  PreparedResolution,
  PreparedTx,
  ReleaseApproval,
  SendOptions,
  TxOutcome,
  CheckpointStore,
} from '../connector';
import { LedgerError } from '../errors';
import { createEvmFollower } from './follower';
import { EvmSender, type ContractCall } from './tx';
import { computeLockId, hex32 } from './ids';
import { EvmEscrows } from './escrow';
import { evmTransport } from './transport';
import { Mutex } from './nonce';

/** Options of {@link createEvmConnector}. */
export interface EvmConnectorOptions {
  readonly rpcUrl: string;
  readonly chain: Chain;
  /** Signs locally (private key never leaves the process); used by this connector only. */
  readonly account: LocalAccount;
  readonly contracts: { readonly htlc: Address; readonly escrow: Address };
  /** Checkpoints and inbox for {@link LedgerConnector.follow}. */
  readonly followers?: CheckpointStore;
  /** Lower bound of log searches and of followers without a checkpoint; default 0. */
  readonly fromBlock?: bigint;
  /** Blocks a follower stays behind the head; default 0 (QBFT and anvil finalize at once). */
  readonly confirmations?: number;
  /** Blocks per `eth_getLogs`; default 2000. */
  readonly logChunk?: bigint;
  /** Receipt polling interval; default 100 ms. */
  readonly pollingIntervalMs?: number;
  /** Bound on each wait for a receipt; default 60 s. */
  readonly receiptTimeoutMs?: number;
}

const LOCK_STATES = ['locked', 'claimed', 'refunded'] as const;

/** The EVM connector: {@link LedgerConnector} plus the EVM-only lock id derivation. */
export interface EvmLedgerConnector extends LedgerConnector {
  readonly ledger: 'evm';
  /** The id the HTLC gives a lock of these terms by this signer (known before sending). */
  lockIdOf(request: LockRequest): Hex;
}

/** Creates the connector. Followers need `followers`. */
export function createEvmConnector(options: Readonly<EvmConnectorOptions>): EvmLedgerConnector {
  return new EvmConnector(options);
}

class EvmConnector implements EvmLedgerConnector {
  readonly ledger = 'evm' as const;
  readonly signer: Address;
  readonly #o: Readonly<EvmConnectorOptions>;
  readonly #client: PublicClient;
  readonly #sender: EvmSender;
  readonly #allowance = new Mutex();
  readonly #pendingLocks = new Map<string, Promise<LockOutcome>>();
  readonly #escrows: EvmEscrows;

  constructor(options: Readonly<EvmConnectorOptions>) {
    this.#o = options;
    this.signer = options.account.address;
    this.#client = createPublicClient({
      chain: options.chain,
      transport: evmTransport(options.rpcUrl),
      pollingInterval: options.pollingIntervalMs ?? 100,
    });
    this.#sender = new EvmSender(this.#client, options.account, options.chain, options.receiptTimeoutMs ?? 60_000);
    this.#escrows = new EvmEscrows({
      client: this.#client,
      sender: this.#sender,
      account: options.account,
      chainId: options.chain.id,
      escrow: options.contracts.escrow,
      fromBlock: options.fromBlock ?? 0n,
      ensureAllowance: (token, amount) => this.#ensureAllowance(token, options.contracts.escrow, amount),
    });
  }

  async lock(request: LockRequest, options: SendOptions = {}): Promise<LockOutcome> {
    const lockId = this.lockIdOf(request);
    const pending = this.#pendingLocks.get(lockId);
    // The same terms in flight in this process: share the first call's outcome.
    if (pending) return { ...(await pending), alreadyDone: true };
    const work = this.#lockOnce(lockId, request, options).finally(() => this.#pendingLocks.delete(lockId));
    this.#pendingLocks.set(lockId, work);
    return work;
  }

  /**
   * The id the HTLC gives a lock of these terms by this signer: keccak256 of
   * abi.encode(chainid, htlc, sender, receiver, token, amount, hashlock, expiry) (the contract's
   * `computeLockId`), so it is known, and journaled, before anything is sent.
   */
  lockIdOf(request: LockRequest): Hex {
    return computeLockId(this.#o.chain.id, this.#o.contracts.htlc, this.signer, request);
  }

  async #lockOnce(lockId: Hex, request: LockRequest, options: SendOptions): Promise<LockOutcome> {
    // A lock with these terms exists: this call is a retry, the ledger already has it.
    if (await this.readLock(lockId)) return { ledger: 'evm', lockId, alreadyDone: true };
    const token = getAddress(request.asset);
    await this.#ensureAllowance(token, this.#o.contracts.htlc, request.amount);
    const args = [
      getAddress(request.receiver),
      token,
      request.amount,
      hex32(request.hashlock),
      BigInt(request.expiry),
    ] as const;
    const call: ContractCall = { address: this.#o.contracts.htlc, abi: hashedTimelockAbi, functionName: 'lock', args };
    try {
      const sent = await this.#sender.send({ call, ledgerRef: lockId, context: { lockId } }, options.beforeSend);
      return { ledger: 'evm', lockId, txId: sent.txId, block: sent.receipt.blockNumber, alreadyDone: false };
    } catch (err) {
      // Raced by another sender of the same terms (another process with this key): same lock.
      if (err instanceof LedgerError && err.context['errorName'] === 'HtlcLockExists')
        return { ledger: 'evm', lockId, alreadyDone: true };
      throw err;
    }
  }

  async claim(lockId: string, preimage: string, options: SendOptions = {}): Promise<TxOutcome> {
    return this.#settleLock(lockId, 'claim', [hex32(preimage)], options);
  }

  async refund(lockId: string, options: SendOptions = {}): Promise<TxOutcome> {
    return this.#settleLock(lockId, 'refund', [], options);
  }

  async #settleLock(
    lockId: string,
    fn: 'claim' | 'refund',
    extra: readonly Hex[],
    options: SendOptions,
  ): Promise<TxOutcome> {
    const lock = await this.readLock(lockId);
    if (!lock) throw new LedgerError('NOT_FOUND', 'evm', `no lock ${lockId}`, { lockId });
    const target = fn === 'claim' ? 'claimed' : 'refunded';
    if (lock.state === target) return { ledger: 'evm', alreadyDone: true };
    const call: ContractCall = {
      address: this.#o.contracts.htlc,
      abi: hashedTimelockAbi,
      functionName: fn,
      args: [hex32(lockId), ...extra],
    };
    const sent = await this.#sender.send({ call, ledgerRef: lockId, context: { lockId } }, options.beforeSend);
    return { ledger: 'evm', txId: sent.txId, block: sent.receipt.blockNumber, alreadyDone: false };
  }

  async readLock(lockId: string): Promise<LockView | undefined> {
    const l = await this.#client.readContract({
      address: this.#o.contracts.htlc,
      abi: hashedTimelockAbi,
      functionName: 'getLock',
      args: [hex32(lockId)],
    });
    const state = LOCK_STATES[l.state - lockState.Locked];
    if (l.state === lockState.None || state === undefined) return undefined;
    const { sender, receiver, token: asset, amount, hashlock } = l;
    return { lockId: hex32(lockId), sender, receiver, asset, amount, hashlock, expiry: Number(l.expiry), state };
  }

  async readPreimage(lockId: string): Promise<string | undefined> {
    const logs = await this.#client.getContractEvents({
      address: this.#o.contracts.htlc,
      abi: hashedTimelockAbi,
      eventName: 'Claimed',
      args: { lockId: hex32(lockId) },
      fromBlock: this.#o.fromBlock ?? 0n,
    });
    return logs[0]?.args.preimage;
  }

  escrowIdOf(tradeId: string, depositor?: string): Hex {
    return this.#escrows.escrowIdOf(tradeId, depositor);
  }

  deposit(request: EscrowDepositRequest, options: SendOptions = {}): Promise<DepositOutcome> {
    return this.#escrows.deposit(request, options);
  }

  release(escrowId: string, amount: bigint, approval?: string, options: SendOptions = {}): Promise<TxOutcome> {
    return this.#escrows.release(escrowId, amount, approval, options);
  }

  releaseWithPreimage(
    escrowId: string,
    amount: bigint,
    preimage: string,
    approval?: string,
    options: SendOptions = {},
  ): Promise<TxOutcome> {
    return this.#escrows.releaseWithPreimage(escrowId, amount, preimage, approval, options);
  }

  /** Signs the approval off-line (EIP-712): no transaction, so `options.beforeSend` is never called. */
  approveRelease(escrowId: string, amount: bigint, _options?: SendOptions): Promise<ReleaseApproval> {
    return this.#escrows.approveRelease(escrowId, amount);
  }

  readEscrowPreimage(escrowId: string): Promise<string | undefined> {
    return this.#escrows.readEscrowPreimage(escrowId);
  }

  returnEscrow(escrowId: string, options: SendOptions = {}): Promise<TxOutcome> {
    return this.#escrows.returnEscrow(escrowId, options);
  }

  readEscrow(escrowId: string): Promise<EscrowView | undefined> {
    return this.#escrows.readEscrow(escrowId);
  }

  async balance(holder: string, asset: string): Promise<bigint> {
    return this.#client.readContract({
      address: getAddress(asset),
      abi: cashTokenAbi,
      functionName: 'balanceOf',
      args: [getAddress(holder)],
    });
  }

  async resolvePrepared(prepared: PreparedTx): Promise<PreparedResolution> {
    const txId = hex32(prepared.txId);
    let receipt = await this.#receiptIfAny(txId);
    if (!receipt && prepared.payload !== undefined && (await this.#sender.rebroadcast(prepared.payload as Hex))) {
      receipt = await this.#sender.waitForReceipt(txId, { txId });
    }
    receipt ??= await this.#receiptIfAny(txId); // it may have landed while we were refused
    if (!receipt) return { status: 'dropped' };
    if (receipt.status !== 'success') {
      const error = await this.#revertOf(receipt, prepared.ledgerRef);
      // A lock that lost a race with the same lock sent by another attempt: the lock is there.
      if (error.context['errorName'] !== 'HtlcLockExists') return { status: 'reverted', error };
      return { status: 'confirmed', ledgerRef: prepared.ledgerRef, outcome: { ledger: 'evm', alreadyDone: true } };
    }
    return {
      status: 'confirmed',
      ledgerRef: prepared.ledgerRef,
      outcome: { ledger: 'evm', txId, block: receipt.blockNumber, alreadyDone: false },
    };
  }

  /** Decodes why a journaled transaction reverted, by replaying its call. */
  async #revertOf(receipt: TransactionReceipt, ledgerRef: string): Promise<LedgerError> {
    const context = { txId: receipt.transactionHash, ledgerRef };
    const tx = await this.#client.getTransaction({ hash: receipt.transactionHash });
    const { htlc, escrow } = this.#o.contracts;
    const abi =
      tx.to && isAddressEqual(tx.to, htlc)
        ? hashedTimelockAbi
        : tx.to && isAddressEqual(tx.to, escrow)
          ? settlementEscrowAbi
          : cashTokenAbi;
    try {
      const { functionName, args } = decodeFunctionData({ abi, data: tx.input });
      const call: ContractCall = { address: tx.to ?? zeroAddress, abi, functionName, args: args ?? [] };
      return await this.#sender.revertError(call, receipt, context);
    } catch (err) {
      return new LedgerError('REVERTED', 'evm', `transaction ${receipt.transactionHash} reverted`, context, {
        cause: err,
      });
    }
  }

  async #receiptIfAny(txId: Hex): Promise<TransactionReceipt | undefined> {
    try {
      return await this.#client.getTransactionReceipt({ hash: txId });
    } catch {
      // Not mined; if the node still holds it, wait for it.
      const pending = await this.#client.getTransaction({ hash: txId }).catch(() => undefined);
      return pending ? this.#sender.waitForReceipt(txId, { txId }) : undefined;
    }
  }

  follow(stream: string, handler: LedgerEventHandler): EventFollower {
    const followers = this.#o.followers;
    if (!followers) throw new LedgerError('INVALID_ARGUMENT', 'evm', 'follow() needs the followers store');
    const target =
      stream === 'htlc'
        ? { address: this.#o.contracts.htlc, abi: hashedTimelockAbi }
        : stream === 'escrow'
          ? { address: this.#o.contracts.escrow, abi: settlementEscrowAbi }
          : undefined;
    if (!target) throw new LedgerError('INVALID_ARGUMENT', 'evm', `unknown stream ${stream} (htlc or escrow)`);
    return createEvmFollower({
      client: this.#client,
      store: followers,
      name: stream,
      ...target,
      handler,
      fromBlock: this.#o.fromBlock ?? 0n,
      confirmations: this.#o.confirmations ?? 0,
      chunk: this.#o.logChunk ?? 2000n,
    });
  }

  /** Approves `spender` for the maximum once when the allowance is short (serialized per connector). */
  async #ensureAllowance(token: Address, spender: Address, amount: bigint): Promise<void> {
    await this.#allowance.run(async () => {
      const current = await this.#client.readContract({
        address: token,
        abi: cashTokenAbi,
        functionName: 'allowance',
        args: [this.signer, spender],
      });
      if (current >= amount) return;
      const call: ContractCall = {
        address: token,
        abi: cashTokenAbi,
        functionName: 'approve',
        args: [spender, maxUint256],
      };
      await this.#sender.send({ call, ledgerRef: token, context: { token, spender } });
    });
  }
}
