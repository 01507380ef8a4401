/**
 * The Fabric connector's transactions: endorse, sign off-line, journal (`beforeSend`), submit and
 * wait for a valid commit; re-run an operation that lost an MVCC race; and settle the fate of a
 * journaled transaction after a restart (found in the ledger, or submitted again from its signed
 * bytes). Kept apart from fabric.ts, which maps the chaincode's transactions onto the connector.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { GatewayError, StatusCode, type Identity, type Signer, type Status } from '@hyperledger/fabric-gateway';
import type { BeforeSend, PreparedResolution, PreparedTx, TxOutcome } from '../connector';
import { LedgerError } from '../errors';
import { messagesOf, toFabricLedgerError } from './errors';
import type { FabricContract, FabricGateway, FabricNetwork, FabricTransaction } from './surface';
import { commitStatusRequestBytes } from './wire';

const STATUS_NAMES = new Map<number, string>(Object.entries(StatusCode).map(([name, code]) => [code, name]));

const RETRYABLE: ReadonlySet<string> = new Set(['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT']);

/**
 * Attempts of an operation that keeps losing MVCC races. N transactions of one account in one
 * block (N concurrent trades of one bank) all read its balance, so one commits per block: the
 * last of them needs up to N attempts. Each retry waits a random 20-200 ms so they spread out.
 */
const MAX_ATTEMPTS = 10;

/**
 * Runs `op` again, reading the state afresh, when its transaction lost an MVCC race (another
 * transaction changed a key it read, e.g. the same account's balance, in the same block):
 * nothing of it was applied, and `beforeSend` journals the new transaction id over the old.
 */
export async function retryMvcc<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await op();
    } catch (err) {
      const conflict = err instanceof LedgerError && RETRYABLE.has(err.context['validationCode'] ?? '');
      if (!conflict || attempt >= MAX_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 180)));
    }
  }
}

/** A transaction committed valid. */
export interface Sent {
  readonly txId: string;
  readonly block: bigint;
}

/** What {@link FabricTransactions} works with. */
export interface FabricTransactionsOptions {
  readonly gateway: FabricGateway;
  readonly identity: Identity;
  readonly signer: Signer;
  readonly channel: string;
  readonly network: FabricNetwork;
  readonly contract: FabricContract;
  /** How long a commit status is awaited for a transaction the ledger holds; default 10 s. */
  readonly statusWaitMs?: number;
}

/** Sending and resolving the connector's transactions. */
export class FabricTransactions {
  readonly #o: Readonly<FabricTransactionsOptions>;

  constructor(options: Readonly<FabricTransactionsOptions>) {
    this.#o = options;
  }

  /** Endorses, signs, journals (`beforeSend`), submits and waits for a valid commit. */
  async send(
    fn: string,
    args: string[],
    ledgerRef: string,
    context: Readonly<Record<string, string>>,
    beforeSend: BeforeSend | undefined,
  ): Promise<Sent> {
    const proposal = this.#o.contract.newProposal(fn, { arguments: args });
    const txId = proposal.getTransactionId();
    const ctx = { ...context, txId };
    let signed: FabricTransaction;
    try {
      const endorsed = await proposal.endorse();
      signed = this.#o.gateway.newSignedTransaction(endorsed.getBytes(), await this.#o.signer(endorsed.getDigest()));
    } catch (err) {
      throw toFabricLedgerError(err, fn, ctx);
    }
    beforeSend?.({ ledgerRef, txId, payload: Buffer.from(signed.getBytes()).toString('base64') });
    const status = await this.#commit(signed, fn, ctx);
    if (!status.successful) {
      const validationCode = STATUS_NAMES.get(status.code) ?? String(status.code);
      const block = status.blockNumber.toString();
      // Invalidated (e.g. MVCC_READ_CONFLICT): nothing was applied, a later retry may succeed.
      throw new LedgerError('UNAVAILABLE', 'fabric', `${fn} ${txId} invalid: ${validationCode}`, {
        ...ctx,
        validationCode,
        block,
      });
    }
    return { txId, block: status.blockNumber };
  }

  /** The fate of a journaled transaction: committed valid, or `dropped` (it may be redone). */
  async resolvePrepared(prepared: PreparedTx): Promise<PreparedResolution> {
    const { txId, ledgerRef } = prepared;
    let status = await this.#statusIfKnown(txId, ledgerRef);
    if (status === undefined && prepared.payload !== undefined) {
      // Never ordered (or lost): submit the journaled signed bytes; the same transaction id can
      // commit at most once, and stale endorsements are invalidated by the MVCC check.
      const tx = this.#o.gateway.newTransaction(Buffer.from(prepared.payload, 'base64'));
      status = await this.#commit(tx, 'resubmit', { txId, ledgerRef });
    }
    if (status === undefined || !status.successful) return { status: 'dropped' };
    const outcome: TxOutcome = { ledger: 'fabric', txId, block: status.blockNumber, alreadyDone: false };
    return { status: 'confirmed', ledgerRef, outcome };
  }

  /**
   * The commit status of `txId`, or undefined when the peer has not committed it (qscc
   * `GetTransactionByID` says so at once) nor commits it within `statusWaitMs`. Not waiting for a
   * transaction the ledger never saw matters: a resumed lock must not lose its margin to T_L. A
   * transaction still in flight is harmless to resubmit: the second copy is DUPLICATE_TXID.
   */
  async #statusIfKnown(txId: string, ledgerRef: string): Promise<Status | undefined> {
    const { gateway, channel, identity } = this.#o;
    if (!(await this.#inLedger(txId, ledgerRef))) return undefined;
    const commit = gateway.newCommit(commitStatusRequestBytes(txId, channel, identity));
    try {
      return await commit.getStatus({ deadline: Date.now() + (this.#o.statusWaitMs ?? 10_000) });
    } catch (err) {
      if (err instanceof GatewayError && err.code === grpcStatus.DEADLINE_EXCEEDED) return undefined;
      throw toFabricLedgerError(err, 'commit status', { txId, ledgerRef });
    }
  }

  /** True when the channel's ledger holds `txId` (valid or not). */
  async #inLedger(txId: string, ledgerRef: string): Promise<boolean> {
    try {
      await this.#o.network.getContract('qscc').evaluateTransaction('GetTransactionByID', this.#o.channel, txId);
      return true;
    } catch (err) {
      if (messagesOf(err).some((m) => m.includes('no such transaction ID'))) return false;
      throw toFabricLedgerError(err, 'transaction lookup', { txId, ledgerRef });
    }
  }

  async #commit(tx: FabricTransaction, action: string, ctx: Readonly<Record<string, string>>): Promise<Status> {
    try {
      return await (await tx.submit()).getStatus();
    } catch (err) {
      throw toFabricLedgerError(err, action, ctx);
    }
  }
}
