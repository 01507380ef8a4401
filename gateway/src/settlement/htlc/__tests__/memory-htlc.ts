/**
 * Test-only: an in-memory HTLC ledger with balances, expiry enforced against a shared clock,
 * deterministic lock ids (like the EVM contract's `computeLockId`), events, and crash injection
 * at the points the journal must survive. One {@link MemoryChain} is the ledger; each gateway
 * signs through its own {@link MemoryChain.connector}. Never use in product code.
 */
import { createHash } from 'node:crypto';
import type {
  EscrowView,
  ReleaseApproval,
  EventFollower,
  LedgerConnector,
  LedgerEvent,
  LockOutcome,
  LockRequest,
  LockView,
  PreparedResolution,
  PreparedTx,
  SendOptions,
  TxOutcome,
  DepositOutcome,
  EscrowDepositRequest,
} from '../../../ledger/connector';
import { MemoryEscrows } from './memory-escrow';
import type { LedgerName } from '../../../core/trade';
import { LedgerError, type LedgerErrorCode } from '../../../ledger/errors';
import type { ActionKind } from '../../../core/journal';
import { isPreimageOf } from '../secrets';

/** Where a send dies, like a killed process; `then` runs first (e.g. stops the gateway). */
export interface Crash {
  readonly signer: string;
  readonly kind: ActionKind;
  readonly point: 'before-prepare' | 'after-prepare' | 'after-broadcast';
  readonly then?: () => void;
}

/** One transaction that reached the ledger. */
export interface Broadcast {
  readonly kind: 'lock' | 'claim' | 'refund' | 'deposit' | 'release' | 'return' | 'approve';
  readonly signer: string;
  readonly lockId: string;
}

const sha = (s: string): string => `0x${createHash('sha256').update(s).digest('hex')}`;
const norm = (s: string): string => s.toLowerCase().replace(/^0x/, '');
const HEX32 = /^(0x)?[0-9a-fA-F]{64}$/;
/** Lock ids each real ledger accepts: the EVM contract's bytes32, the chaincode's `requireId`. */
const LOCK_ID: Readonly<Record<LedgerName, RegExp>> = { evm: HEX32, fabric: /^[A-Za-z0-9._:-]{1,128}$/ };

/** The event kind each transaction emits. */
const EVENT_KIND: Readonly<Record<Broadcast['kind'], string>> = {
  lock: 'locked',
  claim: 'claimed',
  refund: 'refunded',
  deposit: 'deposited',
  release: 'released',
  return: 'returned',
  approve: 'approved',
};

/** The ledger. */
export class MemoryChain {
  readonly locks = new Map<string, LockView & { preimage?: string }>();
  readonly broadcasts: Broadcast[] = [];
  readonly escrow: MemoryEscrows = new MemoryEscrows(this);
  readonly #balances = new Map<string, bigint>();
  readonly #txs = new Map<string, string>();
  readonly #listeners = new Set<(e: LedgerEvent) => void>();
  #seq = 0;
  /** One-shot crash injection. */
  crash: Crash | undefined;
  /** When set and it returns an error, `readLock` of that signer throws it (an unreachable node). */
  readFault: ((signer: string, lockId: string) => LedgerError | undefined) | undefined;

  constructor(
    readonly ledger: LedgerName,
    readonly now: () => number,
  ) {}

  mint(holder: string, asset: string, amount: bigint): void {
    this.#add(holder, asset, amount);
  }

  balanceOf(holder: string, asset: string): bigint {
    return this.#balances.get(`${norm(asset)}|${norm(holder)}`) ?? 0n;
  }

  /** Every free balance plus what open locks hold, of one asset (conservation: equals what was minted). */
  supply(asset: string): bigint {
    let total = 0n;
    for (const [k, v] of this.#balances) if (k.startsWith(`${norm(asset)}|`)) total += v;
    for (const l of this.locks.values()) if (l.state === 'locked' && norm(l.asset) === norm(asset)) total += l.amount;
    return total + this.escrow.held(asset);
  }

  onEvent(listener: (e: LedgerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  count(kind: Broadcast['kind'], signer?: string): number {
    return this.broadcasts.filter((b) => b.kind === kind && (signer === undefined || b.signer === signer)).length;
  }

  /** A connector signing as `signer`. */
  connector(signer: string): LedgerConnector {
    return new MemoryConnector(this, signer);
  }

  error(code: LedgerErrorCode, message: string, lockId: string): LedgerError {
    return new LedgerError(code, this.ledger, message, { lockId });
  }

  /** INVALID_ARGUMENT for a lock id the real ledger would refuse to look up. */
  checkLockId(lockId: string): void {
    if (!LOCK_ID[this.ledger].test(lockId)) throw this.error('INVALID_ARGUMENT', 'malformed lock id', lockId);
  }

  #add(holder: string, asset: string, amount: bigint): void {
    const key = `${norm(asset)}|${norm(holder)}`;
    this.#balances.set(key, (this.#balances.get(key) ?? 0n) + amount);
  }

  /** Runs one transaction with the journal hooks and crash points around it. */
  send(signer: string, b: Broadcast, options: SendOptions, apply: () => Record<string, string>): TxOutcome {
    const crash = this.crash?.signer === signer && this.crash.kind === b.kind ? this.crash : undefined;
    const die = (point: Crash['point']): void => {
      if (crash?.point !== point) return;
      this.crash = undefined;
      crash.then?.();
      throw new Error(`simulated crash ${point} of ${b.kind} by ${signer}`);
    };
    die('before-prepare');
    this.#seq += 1;
    const txId = `${this.ledger}-tx-${this.#seq}`;
    options.beforeSend?.({ ledgerRef: b.lockId, txId });
    die('after-prepare');
    const data = apply();
    this.broadcasts.push(b);
    this.#txs.set(txId, b.lockId);
    const escrowKind = b.kind !== 'lock' && b.kind !== 'claim' && b.kind !== 'refund';
    const event = { ledger: this.ledger, stream: escrowKind ? 'escrow' : 'htlc' };
    const kind = EVENT_KIND[b.kind];
    for (const l of this.#listeners)
      l({ ...event, kind, ref: b.lockId, block: BigInt(this.#seq), logIndex: 0, txId, data });
    die('after-broadcast');
    return { ledger: this.ledger, txId, block: BigInt(this.#seq), alreadyDone: false };
  }

  move(from: string | undefined, to: string | undefined, asset: string, amount: bigint): void {
    if (from !== undefined) this.#add(from, asset, -amount);
    if (to !== undefined) this.#add(to, asset, amount);
  }

  resolve(txId: string): string | undefined {
    return this.#txs.get(txId);
  }
}

class MemoryConnector implements LedgerConnector {
  readonly ledger: LedgerName;

  constructor(
    readonly chain: MemoryChain,
    readonly signer: string,
  ) {
    this.ledger = chain.ledger;
  }

  async lock(r: LockRequest, options: SendOptions = {}): Promise<LockOutcome> {
    const c = this.chain;
    const lockId = sha([this.signer, r.receiver, r.asset, r.amount, norm(r.hashlock), r.expiry].join('|'));
    if (c.locks.has(lockId)) return { ledger: this.ledger, lockId, alreadyDone: true };
    if (r.expiry <= c.now()) throw c.error('INVALID_ARGUMENT', 'expiry in the past', lockId);
    if (c.balanceOf(this.signer, r.asset) < r.amount) throw c.error('INSUFFICIENT_BALANCE', 'balance', lockId);
    const out = c.send(this.signer, { kind: 'lock', signer: this.signer, lockId }, options, () => {
      c.move(this.signer, undefined, r.asset, r.amount);
      c.locks.set(lockId, { ...r, lockId, sender: this.signer, state: 'locked' });
      const { receiver, hashlock, asset, amount, expiry } = r;
      return {
        lockId,
        receiver,
        hashlock,
        sender: this.signer,
        token: asset,
        amount: `${amount}`,
        expiry: `${expiry}`,
      };
    });
    return { ...out, lockId };
  }

  async claim(lockId: string, preimage: string, options: SendOptions = {}): Promise<TxOutcome> {
    const c = this.chain;
    // The preimage's shape first, like both real ledgers (32 bytes of hex, else INVALID_ARGUMENT).
    if (!HEX32.test(preimage)) throw c.error('INVALID_ARGUMENT', 'preimage is not 32 bytes of hex', lockId);
    const l = this.#open(lockId, 'claimed');
    if (!l) return { ledger: this.ledger, alreadyDone: true };
    if (c.now() >= l.expiry) throw c.error('LOCK_EXPIRED', 'expired', lockId);
    if (!isPreimageOf(preimage, l.hashlock)) throw c.error('BAD_PREIMAGE', 'preimage', lockId);
    return c.send(this.signer, { kind: 'claim', signer: this.signer, lockId }, options, () => {
      c.move(undefined, l.receiver, l.asset, l.amount);
      c.locks.set(lockId, { ...l, state: 'claimed', preimage });
      return { lockId, hashlock: l.hashlock, receiver: l.receiver, preimage, amount: `${l.amount}` };
    });
  }

  async refund(lockId: string, options: SendOptions = {}): Promise<TxOutcome> {
    const c = this.chain;
    const l = this.#open(lockId, 'refunded');
    if (!l) return { ledger: this.ledger, alreadyDone: true };
    if (c.now() < l.expiry) throw c.error('LOCK_NOT_EXPIRED', 'not expired', lockId);
    return c.send(this.signer, { kind: 'refund', signer: this.signer, lockId }, options, () => {
      c.move(undefined, l.sender, l.asset, l.amount);
      c.locks.set(lockId, { ...l, state: 'refunded' });
      return { lockId, sender: l.sender, amount: `${l.amount}` };
    });
  }

  /** The open lock, undefined if already in `target`; ledger errors otherwise. */
  #open(lockId: string, target: LockView['state']): LockView | undefined {
    this.chain.checkLockId(lockId);
    const l = this.chain.locks.get(lockId);
    if (!l) throw this.chain.error('NOT_FOUND', 'no such lock', lockId);
    if (l.state === target) return undefined;
    if (l.state !== 'locked') throw this.chain.error('ALREADY_SETTLED', l.state, lockId);
    return l;
  }

  async readLock(lockId: string): Promise<LockView | undefined> {
    this.chain.checkLockId(lockId);
    const fault = this.chain.readFault?.(this.signer, lockId);
    if (fault) throw fault;
    const l = this.chain.locks.get(lockId);
    if (!l) return undefined;
    const { preimage: _secret, ...view } = l;
    return view;
  }

  async readPreimage(lockId: string): Promise<string | undefined> {
    return this.chain.locks.get(lockId)?.preimage;
  }

  async resolvePrepared(prepared: PreparedTx): Promise<PreparedResolution> {
    const ref = this.chain.resolve(prepared.txId);
    if (ref === undefined) return { status: 'dropped' };
    return {
      status: 'confirmed',
      ledgerRef: ref,
      outcome: { ledger: this.ledger, txId: prepared.txId, alreadyDone: false },
    };
  }

  async balance(holder: string, asset: string): Promise<bigint> {
    return this.chain.balanceOf(holder, asset);
  }

  escrowIdOf(tradeId: string, depositor = this.signer): string {
    return this.chain.escrow.idOf(tradeId, depositor);
  }
  async deposit(request: EscrowDepositRequest, options: SendOptions = {}): Promise<DepositOutcome> {
    return this.chain.escrow.deposit(this.signer, request, options);
  }
  async release(escrowId: string, amount: bigint, approval?: string, options: SendOptions = {}): Promise<TxOutcome> {
    return this.chain.escrow.release(this.signer, escrowId, amount, { ...(approval && { approval }) }, options);
  }
  async releaseWithPreimage(
    escrowId: string,
    amount: bigint,
    preimage: string,
    approval?: string,
    options: SendOptions = {},
  ): Promise<TxOutcome> {
    return this.chain.escrow.release(
      this.signer,
      escrowId,
      amount,
      { preimage, ...(approval && { approval }) },
      options,
    );
  }
  async approveRelease(escrowId: string, amount: bigint, options: SendOptions = {}): Promise<ReleaseApproval> {
    return this.chain.escrow.approve(this.signer, escrowId, amount, options);
  }
  async readEscrowPreimage(escrowId: string): Promise<string | undefined> {
    return this.chain.escrow.preimage(escrowId);
  }
  async returnEscrow(escrowId: string, options: SendOptions = {}): Promise<TxOutcome> {
    return this.chain.escrow.returnEscrow(this.signer, escrowId, options);
  }
  async readEscrow(escrowId: string): Promise<EscrowView | undefined> {
    return this.chain.escrow.read(escrowId);
  }
  follow(): EventFollower {
    throw new Error('MemoryChain: use onEvent');
  }
}
