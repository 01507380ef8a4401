/**
 * Sends contract transactions for one EVM signer: estimate (a revert here is decoded and nothing
 * is allocated), allocate a nonce, sign locally, hand the ids to the journal (`beforeSend`),
 * broadcast the raw bytes over JSON-RPC, wait for the receipt. Nonce errors re-sync the local
 * counter and re-sign; reverts become typed {@link LedgerError}s.
 */
import { decodeCashRevert } from '@dvp/cash-contracts';
import {
  BaseError,
  ContractFunctionRevertedError,
  encodeFunctionData,
  keccak256,
  type Abi,
  type Address,
  type Chain,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import type { BeforeSend } from '../connector';
import { LedgerError } from '../errors';
import { isAlreadyKnown, isNonceError, NonceManager } from './nonce';

/** One contract function call. */
export interface ContractCall {
  readonly address: Address;
  readonly abi: Abi;
  readonly functionName: string;
  readonly args: readonly unknown[];
}

/** What {@link EvmSender.send} sends. */
export interface EvmSendRequest {
  readonly call: ContractCall;
  /** Ledger-side id (lock id, escrow id), journaled with the transaction id. */
  readonly ledgerRef: string;
  /** Error context (trade id, lock id, ...). */
  readonly context: Readonly<Record<string, string>>;
}

/** A mined, successful transaction. */
export interface EvmSent {
  readonly txId: Hex;
  readonly ledgerRef: string;
  readonly receipt: TransactionReceipt;
}

const MAX_NONCE_RETRIES = 3;

function messageOf(err: unknown): string {
  if (err instanceof BaseError) return `${err.shortMessage} ${err.details ?? ''}`;
  return err instanceof Error ? err.message : String(err);
}

/** Maps a viem failure to a {@link LedgerError}: decoded custom error, undecoded revert, or UNAVAILABLE. */
export function toLedgerError(err: unknown, action: string, context: Readonly<Record<string, string>>): LedgerError {
  const revert = decodeCashRevert(err);
  if (revert) {
    const args = revert.args.map(String).join(', ');
    const ctx = { ...context, errorName: revert.name };
    return new LedgerError(revert.code, 'evm', `${action} reverted: ${revert.name}(${args})`, ctx, { cause: err });
  }
  const reverted = err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted)
    return new LedgerError('REVERTED', 'evm', `${action} reverted: ${messageOf(err)}`, context, { cause: err });
  return new LedgerError('UNAVAILABLE', 'evm', `${action} failed: ${messageOf(err)}`, context, { cause: err });
}

/** Transaction sender of one signer. */
export class EvmSender {
  readonly #client: PublicClient;
  readonly #account: LocalAccount;
  readonly #chain: Chain;
  readonly #receiptTimeoutMs: number;
  /** The signer's nonces (exposed so other ordered allocations can share its lock). */
  readonly nonces: NonceManager;

  /** `receiptTimeoutMs` bounds each wait for a receipt. */
  constructor(client: PublicClient, account: LocalAccount, chain: Chain, receiptTimeoutMs: number) {
    this.#client = client;
    this.#account = account;
    this.#chain = chain;
    this.#receiptTimeoutMs = receiptTimeoutMs;
    this.nonces = new NonceManager(() => client.getTransactionCount({ address: account.address, blockTag: 'pending' }));
  }

  /** Sends `request` and waits for its receipt; throws {@link LedgerError} on any failure. */
  async send(request: EvmSendRequest, beforeSend?: BeforeSend): Promise<EvmSent> {
    const { call, context } = request;
    const data = encodeFunctionData({ abi: call.abi, functionName: call.functionName, args: call.args });
    const gas = await this.#estimate(call, context);
    const fees = await this.#client.estimateFeesPerGas({ chain: this.#chain });
    for (let attempt = 1; ; attempt += 1) {
      const signed = await this.#signNext(request, { data, gas, ...fees }, beforeSend);
      try {
        await this.#broadcast(signed.raw);
      } catch (err) {
        if (isNonceError(messageOf(err)) && attempt < MAX_NONCE_RETRIES) {
          this.nonces.invalidate();
          continue;
        }
        this.nonces.release(signed.nonce);
        throw toLedgerError(err, call.functionName, { ...context, txId: signed.txId });
      }
      const receipt = await this.waitForReceipt(signed.txId, context);
      if (receipt.status !== 'success') throw await this.revertError(call, receipt, context);
      return { txId: signed.txId, ledgerRef: signed.ledgerRef, receipt };
    }
  }

  /** Broadcasts already signed bytes; "already known" counts as success. */
  async #broadcast(raw: Hex): Promise<void> {
    try {
      await this.#client.request({ method: 'eth_sendRawTransaction', params: [raw] });
    } catch (err) {
      if (!isAlreadyKnown(messageOf(err))) throw err;
    }
  }

  /** Rebroadcasts a journaled transaction; returns false when the node refuses its nonce. */
  async rebroadcast(raw: Hex): Promise<boolean> {
    try {
      await this.#broadcast(raw);
      return true;
    } catch (err) {
      if (isNonceError(messageOf(err))) return false;
      throw toLedgerError(err, 'rebroadcast', {});
    }
  }

  /** Waits for a receipt (UNAVAILABLE on timeout). */
  async waitForReceipt(txId: Hex, context: Readonly<Record<string, string>>): Promise<TransactionReceipt> {
    try {
      return await this.#client.waitForTransactionReceipt({ hash: txId, timeout: this.#receiptTimeoutMs });
    } catch (err) {
      throw toLedgerError(err, 'waitForTransactionReceipt', { ...context, txId });
    }
  }

  /**
   * Replays a reverted call at its block (same timestamp; the reverted transaction left no state)
   * to decode the custom error.
   */
  async revertError(
    call: ContractCall,
    receipt: TransactionReceipt,
    context: Readonly<Record<string, string>>,
  ): Promise<LedgerError> {
    const ctx = { ...context, txId: receipt.transactionHash, block: receipt.blockNumber.toString() };
    try {
      await this.#client.simulateContract({ ...call, account: this.#account, blockNumber: receipt.blockNumber });
    } catch (err) {
      return toLedgerError(err, call.functionName, ctx);
    }
    return new LedgerError('REVERTED', 'evm', `${call.functionName} reverted in block ${receipt.blockNumber}`, ctx);
  }

  async #estimate(call: ContractCall, context: Readonly<Record<string, string>>): Promise<bigint> {
    try {
      const gas = await this.#client.estimateContractGas({ ...call, account: this.#account });
      return (gas * 12n) / 10n; // 20% headroom: state may change between estimate and mining
    } catch (err) {
      throw toLedgerError(err, call.functionName, context);
    }
  }

  async #signNext(
    request: EvmSendRequest,
    tx: { data: Hex; gas: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
    beforeSend: BeforeSend | undefined,
  ): Promise<{ raw: Hex; txId: Hex; nonce: number; ledgerRef: string }> {
    return this.nonces.exclusive(async () => {
      const nonce = await this.nonces.allocate();
      try {
        const { ledgerRef } = request;
        const raw = await this.#account.signTransaction({
          ...tx,
          type: 'eip1559',
          chainId: this.#chain.id,
          to: request.call.address,
          nonce,
          value: 0n,
        });
        const txId = keccak256(raw);
        beforeSend?.({ ledgerRef, txId, payload: raw });
        return { raw, txId, nonce, ledgerRef };
      } catch (err) {
        this.nonces.release(nonce);
        throw err;
      }
    });
  }
}
