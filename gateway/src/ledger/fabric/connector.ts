/**
 * The Fabric implementation of {@link LedgerConnector} over `@hyperledger/fabric-gateway`, for the
 * securities chaincode (`chaincode/fabric`: LockHTLC, ClaimHTLC, RefundHTLC, EscrowDeposit,
 * EscrowApprove, EscrowRelease, EscrowReturn, GetHTLC, GetEscrow, BalanceOf). Assets are ISINs, accounts are
 * `<mspId>:<subject>` or explicit account ids, amounts go as decimal strings.
 *
 * Sending: a proposal is endorsed, the endorsed transaction is signed here (the SDK's off-line
 * signing flow), its transaction id and signed bytes go to the journal (`beforeSend`), then it is
 * submitted and its commit status awaited. Chaincode rejections happen at endorsement, before
 * anything is journaled, so `resolvePrepared` never reports `reverted`: a journaled transaction
 * is either committed valid, or invalid / never ordered (`dropped`: redo it).
 *
 * Idempotency: the caller chooses lock ids (else one is derived from the terms, see
 * {@link FabricLedgerConnector.lockIdOf}); a lock or deposit whose id exists with the same terms
 * is a no-op, with other terms a `MISMATCH`. Claim, refund, release and return read the state
 * first and are no-ops when already done. Two concurrent identical transactions cannot both
 * commit: the second fails endorsement or is invalidated by Fabric's MVCC check. An operation
 * whose transaction lost an MVCC race (also two different transactions of one account in one
 * block: both read its balance) is re-run from its reads, at most ten times in all.
 *
 * Tested twice: against an in-process fake of the fabric-gateway surface below running the real
 * chaincode (`__tests__/fabric-fake.ts`, fast, in the unit tests), and against the real peers of
 * the local network (`test/src/fabric-connector.test.ts`).
 */
import type { Identity, Signer } from '@hyperledger/fabric-gateway';
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
import { toFabricLedgerError } from './errors';
import { createFabricFollower, FABRIC_STREAMS } from './follower';
import { fabricAccountOf, type FabricContract, type FabricGateway, type FabricNetwork } from './surface';
import { FabricTransactions, retryMvcc } from './tx';
import { bare, derivedEscrowId, derivedLockId, toEscrowView, toLockView } from './views';

export {
  fabricAccountOf,
  type FabricCommit,
  type FabricContract,
  type FabricGateway,
  type FabricNetwork,
  type FabricProposal,
  type FabricTransaction,
} from './surface';

/** What a repeated deposit must match of an existing escrow (a string, to compare at once). */
function escrowTerms(depositor: string, t: Omit<EscrowDepositRequest, 'tradeId'>): string {
  const { beneficiary, controller, asset, amount, expiry, hashlock, notary } = t;
  return JSON.stringify([
    depositor,
    beneficiary,
    controller,
    asset,
    String(amount),
    expiry,
    bare(hashlock ?? ''),
    notary ?? '',
  ]);
}

/** Options of {@link createFabricConnector}. */
export interface FabricConnectorOptions {
  /** A connected gateway (`connect({ client, identity, signer, hash })`). */
  readonly gateway: FabricGateway;
  /** The identity the gateway was connected with. */
  readonly identity: Identity;
  /** The signer the gateway was connected with; signs endorsed transactions before journaling. */
  readonly signer: Signer;
  readonly channel: string;
  readonly chaincode: string;
  /** The chaincode's account of this identity; default `<mspId>:<subject>` from the certificate. */
  readonly account?: string;
  /** Checkpoints and inbox for {@link LedgerConnector.follow}. */
  readonly followers?: CheckpointStore;
  /** First block of followers without a checkpoint; default 0. */
  readonly fromBlock?: bigint;
  /** How long `resolvePrepared` waits for the commit of a transaction the peer does not know; default 10 s. */
  readonly statusWaitMs?: number;
  /** How long a quiet event stream is taken as caught up; default 1 s. */
  readonly eventIdleMs?: number;
}

/** The Fabric connector: {@link LedgerConnector} plus the lock id it uses. */
export interface FabricLedgerConnector extends LedgerConnector {
  readonly ledger: 'fabric';
  /** `request.lockId`, or an id derived from this signer and the terms (known before sending). */
  lockIdOf(request: LockRequest): string;
  /** True when the chaincode knows the instrument `isin`. */
  hasInstrument(isin: string): Promise<boolean>;
  /** Every non-zero free balance of `account` (chaincode `Holdings`). */
  holdings(account: string): Promise<{ readonly isin: string; readonly free: bigint }[]>;
}

/** Creates the connector. Followers need `followers`. */
export function createFabricConnector(options: Readonly<FabricConnectorOptions>): FabricLedgerConnector {
  return new FabricConnector(options);
}

const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

class FabricConnector implements FabricLedgerConnector {
  readonly ledger = 'fabric' as const;
  readonly signer: string;
  readonly #o: Readonly<FabricConnectorOptions>;
  readonly #network: FabricNetwork;
  readonly #contract: FabricContract;
  readonly #pendingLocks = new Map<string, Promise<LockOutcome>>();
  readonly #tx: FabricTransactions;

  constructor(options: Readonly<FabricConnectorOptions>) {
    this.#o = options;
    this.signer = options.account ?? fabricAccountOf(options.identity);
    this.#network = options.gateway.getNetwork(options.channel);
    this.#contract = this.#network.getContract(options.chaincode);
    this.#tx = new FabricTransactions({ ...options, network: this.#network, contract: this.#contract });
  }

  lockIdOf(request: LockRequest): string {
    return request.lockId ?? derivedLockId(this.signer, request);
  }

  async lock(request: LockRequest, options: SendOptions = {}): Promise<LockOutcome> {
    const lockId = this.lockIdOf(request);
    const pending = this.#pendingLocks.get(lockId);
    // The same lock in flight in this process: share the first call's outcome.
    if (pending) return { ...(await pending), alreadyDone: true };
    const work = retryMvcc(() => this.#lockOnce(lockId, request, options)).finally(() =>
      this.#pendingLocks.delete(lockId),
    );
    this.#pendingLocks.set(lockId, work);
    return work;
  }

  async #lockOnce(lockId: string, request: LockRequest, options: SendOptions): Promise<LockOutcome> {
    const existing = await this.readLock(lockId);
    if (existing) return this.#sameLock(existing, request);
    const { asset, amount, receiver, hashlock, expiry } = request;
    const args = [lockId, asset, amount.toString(), receiver, bare(hashlock), String(expiry)];
    try {
      const sent = await this.#tx.send('LockHTLC', args, lockId, { lockId }, options.beforeSend);
      return { ledger: 'fabric', lockId, ...sent, alreadyDone: false };
    } catch (err) {
      // Raced by the same lock from another process (a lost MVCC race is retried by #retry).
      const now = err instanceof LedgerError && err.code === 'ALREADY_EXISTS' ? await this.readLock(lockId) : undefined;
      if (now) return this.#sameLock(now, request);
      throw err;
    }
  }

  #sameLock(lock: LockView, request: LockRequest): LockOutcome {
    const same =
      lock.sender === this.signer &&
      lock.receiver === request.receiver &&
      lock.asset === request.asset &&
      lock.amount === request.amount &&
      lock.hashlock === bare(request.hashlock) &&
      lock.expiry === request.expiry;
    if (same) return { ledger: 'fabric', lockId: lock.lockId, alreadyDone: true };
    throw new LedgerError('MISMATCH', 'fabric', `lock ${lock.lockId} exists with other terms`, { lockId: lock.lockId });
  }

  async claim(lockId: string, preimage: string, options: SendOptions = {}): Promise<TxOutcome> {
    return retryMvcc(() => this.#settleLock(lockId, 'claimed', 'ClaimHTLC', [lockId, bare(preimage)], options));
  }

  async refund(lockId: string, options: SendOptions = {}): Promise<TxOutcome> {
    return retryMvcc(() => this.#settleLock(lockId, 'refunded', 'RefundHTLC', [lockId], options));
  }

  async #settleLock(
    lockId: string,
    target: LockView['state'],
    fn: string,
    args: string[],
    options: SendOptions,
  ): Promise<TxOutcome> {
    const lock = await this.readLock(lockId);
    if (!lock) throw new LedgerError('NOT_FOUND', 'fabric', `no lock ${lockId}`, { lockId });
    if (lock.state === target) return { ledger: 'fabric', alreadyDone: true };
    const sent = await this.#tx.send(fn, args, lockId, { lockId }, options.beforeSend);
    return { ledger: 'fabric', ...sent, alreadyDone: false };
  }

  async readLock(lockId: string): Promise<LockView | undefined> {
    const l = await this.#read('GetHTLC', lockId);
    return l && toLockView(l);
  }

  async readPreimage(lockId: string): Promise<string | undefined> {
    // The claimed lock keeps the preimage (also in its HTLCClaimed event).
    const preimage = (await this.#read('GetHTLC', lockId))?.['preimage'];
    return typeof preimage === 'string' && preimage !== '' ? `0x${preimage}` : undefined;
  }

  /** `depositor` is a chaincode account id (`<mspId>:<subject>`, as the directory's `fabricAccount`). */
  escrowIdOf(tradeId: string, depositor: string = this.signer): string {
    return derivedEscrowId(depositor, tradeId);
  }

  async deposit(request: EscrowDepositRequest, options: SendOptions = {}): Promise<DepositOutcome> {
    return retryMvcc(() => this.#depositOnce(request, options));
  }

  async #depositOnce(request: EscrowDepositRequest, options: SendOptions): Promise<DepositOutcome> {
    const { tradeId } = request;
    const escrowId = this.escrowIdOf(tradeId);
    const existing = await this.readEscrow(escrowId);
    if (existing) return this.#sameEscrow(existing, request);
    const { asset, amount, beneficiary, controller, expiry, hashlock, notary } = request;
    const args = [tradeId, asset, amount.toString(), beneficiary, controller, String(expiry)];
    args.push(hashlock === undefined ? '' : bare(hashlock), notary ?? '');
    try {
      const sent = await this.#tx.send('EscrowDeposit', args, escrowId, { escrowId, tradeId }, options.beforeSend);
      return { ledger: 'fabric', ...sent, escrowId, alreadyDone: false };
    } catch (err) {
      const now =
        err instanceof LedgerError && err.code === 'ALREADY_EXISTS' ? await this.readEscrow(escrowId) : undefined;
      if (now) return this.#sameEscrow(now, request);
      throw err;
    }
  }

  /** This signer's escrow for the trade exists: `alreadyDone` with the same terms, MISMATCH with others. */
  #sameEscrow(e: EscrowView, request: EscrowDepositRequest): DepositOutcome {
    if (escrowTerms(e.depositor, e) === escrowTerms(this.signer, request))
      return { ledger: 'fabric', escrowId: e.escrowId, alreadyDone: true };
    const context = { escrowId: e.escrowId, tradeId: request.tradeId };
    throw new LedgerError('MISMATCH', 'fabric', `escrow ${e.escrowId} exists with other terms`, context);
  }

  release(escrowId: string, amount: bigint, approval?: string, options: SendOptions = {}): Promise<TxOutcome> {
    return this.#release(escrowId, amount, undefined, approval, options);
  }

  /**
   * `EscrowRelease` with the preimage (anyone may). An escrow without hashlock is refused with
   * NOT_AUTHORIZED, as on the EVM: the chaincode would let its controller release and ignore the
   * preimage.
   */
  releaseWithPreimage(
    escrowId: string,
    amount: bigint,
    preimage: string,
    approval?: string,
    options: SendOptions = {},
  ): Promise<TxOutcome> {
    return this.#release(escrowId, amount, preimage, approval, options);
  }

  async #release(
    escrowId: string,
    amount: bigint,
    preimage: string | undefined,
    approval: string | undefined,
    options: SendOptions,
  ): Promise<TxOutcome> {
    if (approval !== undefined)
      throw new LedgerError(
        'INVALID_ARGUMENT',
        'fabric',
        'a Fabric release carries no approval: the notary approves on the ledger (EscrowApprove)',
        { escrowId },
      );
    return retryMvcc(async () => {
      const escrow = await this.readEscrow(escrowId);
      if (escrow?.state === 'released') return { ledger: 'fabric', alreadyDone: true };
      if (preimage !== undefined && escrow !== undefined && escrow.hashlock === undefined)
        throw new LedgerError('NOT_AUTHORIZED', 'fabric', `escrow ${escrowId} has no hashlock`, { escrowId });
      const args = [escrowId, amount.toString(), preimage === undefined ? '' : bare(preimage)];
      const sent = await this.#tx.send('EscrowRelease', args, escrowId, { escrowId }, options.beforeSend);
      return { ledger: 'fabric', ...sent, alreadyDone: false };
    });
  }

  /**
   * This signer, the escrow's notary, submits `EscrowApprove(escrowId, quantity)`: the next
   * release of exactly `amount` then needs nothing more (a later approval replaces an unused one).
   */
  async approveRelease(escrowId: string, amount: bigint, options: SendOptions = {}): Promise<ReleaseApproval> {
    return retryMvcc(async () => {
      const args = [escrowId, amount.toString()];
      const sent = await this.#tx.send('EscrowApprove', args, escrowId, { escrowId }, options.beforeSend);
      return { ledger: 'fabric', escrowId, amount, outcome: { ledger: 'fabric', ...sent, alreadyDone: false } };
    });
  }

  async readEscrowPreimage(escrowId: string): Promise<string | undefined> {
    // The escrow keeps the preimage a release revealed (also in its EscrowReleased event).
    const preimage = (await this.#read('GetEscrow', escrowId))?.['preimage'];
    return typeof preimage === 'string' && preimage !== '' ? `0x${preimage}` : undefined;
  }

  async returnEscrow(escrowId: string, options: SendOptions = {}): Promise<TxOutcome> {
    return retryMvcc(async () => {
      if ((await this.readEscrow(escrowId))?.state === 'returned') return { ledger: 'fabric', alreadyDone: true };
      const sent = await this.#tx.send('EscrowReturn', [escrowId], escrowId, { escrowId }, options.beforeSend);
      return { ledger: 'fabric', ...sent, alreadyDone: false };
    });
  }

  async readEscrow(escrowId: string): Promise<EscrowView | undefined> {
    const e = await this.#read('GetEscrow', escrowId);
    return e && toEscrowView(e);
  }

  async balance(holder: string, asset: string): Promise<bigint> {
    return BigInt(await this.#evaluate('BalanceOf', asset, holder));
  }

  async hasInstrument(isin: string): Promise<boolean> {
    return (await this.#read('Instrument', isin)) !== undefined;
  }

  async holdings(account: string): Promise<{ readonly isin: string; readonly free: bigint }[]> {
    const rows = JSON.parse(await this.#evaluate('Holdings', account)) as { isin: string; quantity: string }[];
    return rows.map((h) => ({ isin: h.isin, free: BigInt(h.quantity) }));
  }

  resolvePrepared(prepared: PreparedTx): Promise<PreparedResolution> {
    return this.#tx.resolvePrepared(prepared);
  }

  follow(stream: string, handler: LedgerEventHandler): EventFollower {
    const followers = this.#o.followers;
    if (!followers) throw new LedgerError('INVALID_ARGUMENT', 'fabric', 'follow() needs the followers store');
    if (FABRIC_STREAMS[stream] === undefined)
      throw new LedgerError('INVALID_ARGUMENT', 'fabric', `unknown stream ${stream} (htlc or escrow)`);
    return createFabricFollower({
      network: this.#network,
      chaincode: this.#o.chaincode,
      store: followers,
      name: stream,
      handler,
      fromBlock: this.#o.fromBlock ?? 0n,
      idleMs: this.#o.eventIdleMs ?? 1000,
    });
  }

  async #evaluate(fn: string, ...args: string[]): Promise<string> {
    try {
      return utf8(await this.#contract.evaluateTransaction(fn, ...args));
    } catch (err) {
      throw toFabricLedgerError(err, fn, {});
    }
  }

  /** A chaincode record as JSON, undefined when the chaincode says NOT_FOUND. */
  async #read(fn: string, id: string): Promise<Record<string, unknown> | undefined> {
    try {
      return JSON.parse(await this.#evaluate(fn, id)) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }
}
