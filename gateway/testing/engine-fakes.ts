/**
 * Test-only helpers for the engine: a temp database, actors, instructions, and an in-memory
 * ledger connector with crash injection (to test the journal's resume). Never use in product code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type {
  EscrowView,
  ReleaseApproval,
  EventFollower,
  LedgerConnector,
  LockOutcome,
  LockRequest,
  LockView,
  PreparedResolution,
  PreparedTx,
  SendOptions,
  TxOutcome,
  DepositOutcome,
} from '../src/ledger/connector';
import type { LedgerName } from '../src/core/trade';
import { LedgerError } from '../src/ledger/errors';
import type { Actor, TradeInstruction } from '../src/core/trade';

/** A temp folder with a database path; `remove()` deletes it. */
export function tempDbFile(): { readonly file: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'dvp-gateway-'));
  return { file: path.join(dir, 'gateway.sqlite'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An actor of `party` with a fingerprint derived from its name. */
export function actorOf(party: string, role = 'operator'): Actor {
  const fingerprint = createHash('sha256').update(party).digest('hex');
  return { party, subject: `CN=${party}-${role}`, role, fingerprint };
}

/** A valid instruction; override any field. */
export function instructionOf(overrides: Partial<TradeInstruction> = {}): TradeInstruction {
  return {
    tradeId: 'T-1',
    side: 'buy',
    counterparty: 'SELLER',
    isin: 'US0378331005',
    quantity: 100n,
    price: 12_345n,
    currency: 'EUR',
    mode: 'htlc',
    settlementDeadline: 2_000_000_000,
    partial: 'NPAR',
    ...overrides,
  };
}

/** Where {@link FakeLedger} simulates a process crash during a send. */
export type CrashPoint = 'none' | 'before-prepare' | 'after-prepare' | 'after-broadcast';

/** An in-memory ledger that survives "restarts" of the gateway (it is the ledger). */
export class FakeLedger implements LedgerConnector {
  readonly signer = '0xfake';
  /** Set to make the next sends die at that point (like a killed process). */
  crash: CrashPoint = 'none';
  /** Every transaction that reached the ledger, in order. */
  readonly broadcasts: string[] = [];
  readonly locks = new Map<string, LockView>();
  /** Escrows `readEscrow` answers with, by id; set them directly (this fake makes none). */
  readonly escrows = new Map<string, EscrowView>();
  readonly #txs = new Map<string, string>();
  #seq = 0;

  /** A fake of `ledger` (default the EVM). */
  constructor(readonly ledger: LedgerName = 'evm') {}

  async lock(request: LockRequest, options: SendOptions = {}): Promise<LockOutcome> {
    for (const l of this.locks.values()) {
      if (l.hashlock === request.hashlock && l.amount === request.amount)
        return { ledger: this.ledger, lockId: l.lockId, alreadyDone: true };
    }
    this.#seq += 1;
    const lockId = `lock-${this.#seq}`;
    const txId = `tx-${this.#seq}`;
    this.#send(txId, lockId, options, () =>
      this.locks.set(lockId, { ...request, lockId, sender: this.signer, state: 'locked' }),
    );
    return { ledger: this.ledger, lockId, txId, block: BigInt(this.#seq), alreadyDone: false };
  }

  async claim(lockId: string, _preimage: string, options: SendOptions = {}): Promise<TxOutcome> {
    const lock = this.locks.get(lockId);
    if (!lock) throw new LedgerError('NOT_FOUND', this.ledger, 'no such lock', { lockId });
    if (lock.state === 'claimed') return { ledger: this.ledger, alreadyDone: true };
    this.#seq += 1;
    const txId = `tx-${this.#seq}`;
    this.#send(txId, lockId, options, () => this.locks.set(lockId, { ...lock, state: 'claimed' }));
    return { ledger: this.ledger, txId, alreadyDone: false };
  }

  async resolvePrepared(prepared: PreparedTx): Promise<PreparedResolution> {
    const ref = this.#txs.get(prepared.txId);
    if (ref === undefined) return { status: 'dropped' };
    return {
      status: 'confirmed',
      ledgerRef: ref,
      outcome: { ledger: this.ledger, txId: prepared.txId, alreadyDone: false },
    };
  }

  async readLock(lockId: string): Promise<LockView | undefined> {
    return this.locks.get(lockId);
  }

  refund(): Promise<TxOutcome> {
    return Promise.reject(new Error('FakeLedger.refund: not needed by these tests'));
  }
  readPreimage(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }
  escrowIdOf(tradeId: string, depositor = this.signer): string {
    return `escrow:${depositor}:${tradeId}`;
  }
  releaseWithPreimage(): Promise<TxOutcome> {
    return Promise.reject(new Error('FakeLedger: no escrow in these tests'));
  }
  approveRelease(): Promise<ReleaseApproval> {
    return Promise.reject(new Error('FakeLedger: no escrow in these tests'));
  }
  readEscrowPreimage(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  deposit(): Promise<DepositOutcome> {
    return Promise.reject(new Error('FakeLedger.deposit: not needed by these tests'));
  }
  release(): Promise<TxOutcome> {
    return Promise.reject(new Error('FakeLedger.release: not needed by these tests'));
  }
  returnEscrow(): Promise<TxOutcome> {
    return Promise.reject(new Error('FakeLedger.returnEscrow: not needed by these tests'));
  }
  readEscrow(escrowId: string): Promise<EscrowView | undefined> {
    return Promise.resolve(this.escrows.get(escrowId));
  }
  /** Token balances by `holder/asset`; 0 when absent. */
  readonly balances = new Map<string, bigint>();
  balance(holder: string, asset: string): Promise<bigint> {
    return Promise.resolve(this.balances.get(`${holder}/${asset}`) ?? 0n);
  }
  follow(): EventFollower {
    throw new Error('FakeLedger.follow: not needed by these tests');
  }

  #send(txId: string, ref: string, options: SendOptions, apply: () => void): void {
    if (this.crash === 'before-prepare') throw new Error('simulated crash before signing');
    options.beforeSend?.({ ledgerRef: ref, txId });
    if (this.crash === 'after-prepare') throw new Error('simulated crash before broadcast');
    this.broadcasts.push(txId);
    this.#txs.set(txId, ref);
    apply();
    if (this.crash === 'after-broadcast') throw new Error('simulated crash after broadcast');
  }
}
