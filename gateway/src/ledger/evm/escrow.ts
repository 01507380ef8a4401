/**
 * The escrow half of the EVM connector, over `SettlementEscrow`: the `deposit` arguments of a
 * request, the {@link EscrowView} of a stored escrow, which terms of an existing escrow differ
 * from a request (a retried deposit must find exactly its own terms), and {@link EvmEscrows},
 * which the connector hands its escrow operations to.
 */
import { escrowState, releaseApprovalTypedData, settlementEscrowAbi } from '@dvp/cash-contracts';
import {
  getAddress,
  isAddress,
  isAddressEqual,
  zeroAddress,
  zeroHash,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from 'viem';
import type {
  DepositOutcome,
  EscrowDepositRequest,
  EscrowView,
  ReleaseApproval,
  SendOptions,
  TxOutcome,
} from '../connector';
import { LedgerError } from '../errors';
import { computeEscrowId, hex32, toBytes32Id } from './ids';
import type { ContractCall, EvmSender } from './tx';

/** An escrow as `SettlementEscrow.getEscrow` returns it (state already mapped). */
export interface StoredEscrow {
  readonly tradeId: Hex;
  readonly token: Address;
  readonly depositor: Address;
  readonly beneficiary: Address;
  readonly controller: Address;
  readonly notary: Address;
  readonly expiry: bigint;
  readonly amount: bigint;
  readonly released: bigint;
  readonly hashlock: Hex;
}

/** The arguments of `SettlementEscrow.deposit` for `request`; zero hashlock/notary for none. */
export function depositArgs(request: EscrowDepositRequest) {
  return [
    toBytes32Id(request.tradeId),
    getAddress(request.asset),
    request.amount,
    getAddress(request.beneficiary),
    getAddress(request.controller),
    BigInt(request.expiry),
    request.hashlock ? hex32(request.hashlock) : zeroHash,
    request.notary ? getAddress(request.notary) : zeroAddress,
  ] as const;
}

/** The view of a stored escrow; `hashlock` and `notary` are left out when zero (none). */
export function escrowView(escrowId: Hex, e: StoredEscrow, state: EscrowView['state']): EscrowView {
  const { tradeId, depositor, beneficiary, controller, token: asset, amount, released } = e;
  return {
    escrowId,
    tradeId,
    depositor,
    beneficiary,
    controller,
    asset,
    amount,
    released,
    expiry: Number(e.expiry),
    ...(e.hashlock === zeroHash ? {} : { hashlock: e.hashlock }),
    ...(e.notary === zeroAddress ? {} : { notary: e.notary }),
    state,
  };
}

type Terms = Readonly<Record<string, string>>;

/** Every term of a deposit, normalized (lower-case hex, decimal strings, zero for none). */
function termsOf(depositor: Address, args: ReturnType<typeof depositArgs>): Terms {
  const [tradeId, asset, amount, beneficiary, controller, expiry, hashlock, notary] = args;
  const terms = { depositor, tradeId, asset, amount, beneficiary, controller, expiry, hashlock, notary };
  return Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, String(v).toLowerCase()]));
}

/**
 * The names of the terms in which the existing escrow `existing` differs from `request` by
 * `depositor` (empty when it is the same deposit).
 */
export function differingTerms(existing: EscrowView, request: EscrowDepositRequest, depositor: Address): string[] {
  const stored = termsOf(existing.depositor as Address, [
    existing.tradeId as Hex,
    existing.asset as Address,
    existing.amount,
    existing.beneficiary as Address,
    existing.controller as Address,
    BigInt(existing.expiry),
    (existing.hashlock ?? zeroHash) as Hex,
    (existing.notary ?? zeroAddress) as Address,
  ]);
  const requested = termsOf(depositor, depositArgs(request));
  return Object.keys(requested).filter((k) => stored[k] !== requested[k]);
}

const ESCROW_STATES = ['held', 'released', 'returned'] as const;

/** An escrow as `getEscrow` returns it, with its state and release nonce. */
type OnChainEscrow = StoredEscrow & { readonly state: number; readonly releaseNonce: bigint };

/**
 * Why `notary` may not approve a release of `amount` from `e` at block time `now`, undefined when
 * it may: the checks the chaincode's `EscrowApprove` makes, so both ledgers refuse alike before
 * anything is signed (the contract itself only checks the signature at release).
 */
function approvalRefusal(
  id: Hex,
  e: OnChainEscrow,
  notary: Address,
  amount: bigint,
  now: bigint,
): LedgerError | undefined {
  const context = { escrowId: id };
  if (e.state === escrowState.None) return new LedgerError('NOT_FOUND', 'evm', `no escrow ${id}`, context);
  if (e.state !== escrowState.Held)
    return new LedgerError('ALREADY_SETTLED', 'evm', `escrow ${id} is already settled`, context);
  if (!isAddressEqual(e.notary, notary))
    return new LedgerError('NOT_AUTHORIZED', 'evm', `only the notary of escrow ${id} may approve its releases`, {
      ...context,
      notary: e.notary,
    });
  if (now >= e.expiry) return new LedgerError('LOCK_EXPIRED', 'evm', `escrow ${id} has expired`, context);
  if (amount > e.amount - e.released)
    return new LedgerError('EXCEEDS_ESCROW', 'evm', `approval exceeds what remains in escrow ${id}`, context);
  return undefined;
}

/** What {@link EvmEscrows} works with: the connector's client, sender and signing account. */
export interface EvmEscrowsOptions {
  readonly client: PublicClient;
  readonly sender: EvmSender;
  /** Signs notary approvals (EIP-712); the connector's own account. */
  readonly account: LocalAccount;
  readonly chainId: number;
  readonly escrow: Address;
  /** Lower bound of log searches. */
  readonly fromBlock: bigint;
  /** Approves the escrow contract for at least `amount` of `token` when the allowance is short. */
  readonly ensureAllowance: (token: Address, amount: bigint) => Promise<void>;
}

/**
 * The connector's escrow operations (see {@link LedgerConnector}): ids derived from depositor and
 * trade, deposits whose retry finds its own escrow, releases by the controller or with the
 * preimage, returns, and the notary's approval, an EIP-712 signature and no transaction.
 * Release and return read the state first and are no-ops when already done.
 */
export class EvmEscrows {
  readonly #o: Readonly<EvmEscrowsOptions>;
  /** The last deposit in flight per escrow id (settled, never rejected). */
  readonly #depositing = new Map<string, Promise<void>>();

  constructor(options: Readonly<EvmEscrowsOptions>) {
    this.#o = options;
  }

  /** `depositor`'s (default: this signer's) escrow for `tradeId`: the contract's `computeEscrowId`. */
  escrowIdOf(tradeId: string, depositor: string = this.#o.account.address): Hex {
    if (!isAddress(depositor, { strict: false }))
      throw new LedgerError('INVALID_ARGUMENT', 'evm', `depositor is not an address: ${depositor}`, { tradeId });
    return computeEscrowId(depositor, tradeId);
  }

  async deposit(request: EscrowDepositRequest, options: SendOptions): Promise<DepositOutcome> {
    const escrowId = this.escrowIdOf(request.tradeId);
    // Deposits for one trade run one after another in this process: a later one finds the escrow
    // of the first and compares its terms, instead of sending a deposit doomed to revert.
    const earlier = this.#depositing.get(escrowId) ?? Promise.resolve();
    const work = earlier.then(() => this.#depositOnce(escrowId, request, options));
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#depositing.set(escrowId, settled);
    void settled.then(() => {
      if (this.#depositing.get(escrowId) === settled) this.#depositing.delete(escrowId);
    });
    return work;
  }

  async #depositOnce(escrowId: Hex, request: EscrowDepositRequest, options: SendOptions): Promise<DepositOutcome> {
    const existing = await this.#existingDeposit(escrowId, request);
    if (existing) return existing;
    await this.#o.ensureAllowance(getAddress(request.asset), request.amount);
    const call: ContractCall = {
      address: this.#o.escrow,
      abi: settlementEscrowAbi,
      functionName: 'deposit',
      args: depositArgs(request),
    };
    const context = { escrowId, tradeId: request.tradeId };
    try {
      const sent = await this.#o.sender.send({ call, ledgerRef: escrowId, context }, options.beforeSend);
      return { ledger: 'evm', escrowId, txId: sent.txId, block: sent.receipt.blockNumber, alreadyDone: false };
    } catch (err) {
      // Raced by another deposit for this trade from this key (a concurrent call, another process).
      const raced =
        err instanceof LedgerError && err.context['errorName'] === 'EscrowAlreadyExists'
          ? await this.#existingDeposit(escrowId, request)
          : undefined;
      if (raced) return raced;
      throw err;
    }
  }

  /** `alreadyDone` when this signer's escrow for the trade has the terms of `request`; none: undefined. */
  async #existingDeposit(escrowId: Hex, request: EscrowDepositRequest): Promise<DepositOutcome | undefined> {
    const existing = await this.readEscrow(escrowId);
    if (!existing) return undefined;
    const differs = differingTerms(existing, request, this.#o.account.address);
    if (differs.length === 0) return { ledger: 'evm', escrowId, alreadyDone: true };
    throw new LedgerError(
      'MISMATCH',
      'evm',
      `escrow ${escrowId} for trade ${request.tradeId} exists with other terms (${differs.join(', ')})`,
      { escrowId, tradeId: request.tradeId, differs: differs.join(',') },
    );
  }

  release(escrowId: string, amount: bigint, approval: string | undefined, options: SendOptions): Promise<TxOutcome> {
    return this.#settle(escrowId, 'released', 'release', [amount, (approval ?? '0x') as Hex], options);
  }

  releaseWithPreimage(
    escrowId: string,
    amount: bigint,
    preimage: string,
    approval: string | undefined,
    options: SendOptions,
  ): Promise<TxOutcome> {
    const args = [amount, hex32(preimage), (approval ?? '0x') as Hex];
    return this.#settle(escrowId, 'released', 'releaseWithPreimage', args, options);
  }

  returnEscrow(escrowId: string, options: SendOptions): Promise<TxOutcome> {
    return this.#settle(escrowId, 'returned', 'returnFunds', [], options);
  }

  /** Sends `functionName(escrowId, ...extra)` unless the escrow is already in state `done`. */
  async #settle(
    escrowId: string,
    done: EscrowView['state'],
    functionName: 'release' | 'releaseWithPreimage' | 'returnFunds',
    extra: readonly unknown[],
    options: SendOptions,
  ): Promise<TxOutcome> {
    const id = toBytes32Id(escrowId);
    if ((await this.readEscrow(id))?.state === done) return { ledger: 'evm', alreadyDone: true };
    const call: ContractCall = {
      address: this.#o.escrow,
      abi: settlementEscrowAbi,
      functionName,
      args: [id, ...extra],
    };
    const sent = await this.#o.sender.send({ call, ledgerRef: id, context: { escrowId: id } }, options.beforeSend);
    return { ledger: 'evm', txId: sent.txId, block: sent.receipt.blockNumber, alreadyDone: false };
  }

  /**
   * This signer, the escrow's notary, signs `Release(escrowId, amount, nonce)` under the
   * contract's EIP-712 domain, over the escrow's current `releaseNonce`: it is good for the next
   * release of exactly `amount`, once. Nothing is sent.
   */
  async approveRelease(escrowId: string, amount: bigint): Promise<ReleaseApproval> {
    const id = toBytes32Id(escrowId);
    const [e, head] = await Promise.all([this.#stored(id), this.#o.client.getBlock()]);
    const refusal = approvalRefusal(id, e, this.#o.account.address, amount, head.timestamp);
    if (refusal) throw refusal;
    const typedData = releaseApprovalTypedData(this.#o.escrow, this.#o.chainId, {
      escrowId: id,
      amount,
      nonce: e.releaseNonce,
    });
    const signature = await this.#o.account.signTypedData(typedData);
    return { ledger: 'evm', escrowId: id, amount, signature };
  }

  /** The preimage of the first `Released` event of the escrow that carries one (zero: none). */
  async readEscrowPreimage(escrowId: string): Promise<string | undefined> {
    const logs = await this.#o.client.getContractEvents({
      address: this.#o.escrow,
      abi: settlementEscrowAbi,
      eventName: 'Released',
      args: { escrowId: toBytes32Id(escrowId) },
      fromBlock: this.#o.fromBlock,
    });
    return logs.map((l) => l.args.preimage).find((p) => p !== undefined && p !== zeroHash);
  }

  async readEscrow(escrowId: string): Promise<EscrowView | undefined> {
    const id = toBytes32Id(escrowId);
    const e = await this.#stored(id);
    const state = ESCROW_STATES[e.state - escrowState.Held];
    if (e.state === escrowState.None || state === undefined) return undefined;
    return escrowView(id, e, state);
  }

  async #stored(id: Hex): Promise<OnChainEscrow> {
    return this.#o.client.readContract({
      address: this.#o.escrow,
      abi: settlementEscrowAbi,
      functionName: 'getEscrow',
      args: [id],
    });
  }
}
