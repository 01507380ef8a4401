/**
 * Test-only: the escrow half of {@link MemoryChain}, with the rules of both real ledgers: ids
 * derived from depositor and trade, release by the controller or by anyone with the hashlock's
 * preimage strictly before expiry, return by the controller at any time or by the depositor at or
 * after expiry, and a notary's approval of exactly one release (on-ledger on `fabric`, a
 * signature on `evm`). Never use in product code.
 */
import { createHash } from 'node:crypto';
import type {
  DepositOutcome,
  EscrowDepositRequest,
  EscrowView,
  ReleaseApproval,
  SendOptions,
  TxOutcome,
} from '../../../ledger/connector';
import { isPreimageOf } from '../secrets';
import type { MemoryChain } from './memory-htlc';

type Stored = EscrowView & { approved?: bigint | undefined; nonce: number; preimage?: string };

const same = (a: string | undefined, b: string | undefined): boolean =>
  (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

/** The escrows of one in-memory ledger. */
export class MemoryEscrows {
  readonly escrows = new Map<string, Stored>();

  constructor(readonly chain: MemoryChain) {}

  idOf(tradeId: string, depositor: string): string {
    return `escrow:${depositor.toLowerCase()}:${tradeId}`;
  }

  /** What open escrows hold of `asset` (for conservation). */
  held(asset: string): bigint {
    let total = 0n;
    for (const e of this.escrows.values()) {
      if (e.state === 'held' && same(e.asset, asset)) total += e.amount - e.released;
    }
    return total;
  }

  deposit(signer: string, r: EscrowDepositRequest, options: SendOptions): DepositOutcome {
    const c = this.chain;
    const escrowId = this.idOf(r.tradeId, signer);
    const existing = this.escrows.get(escrowId);
    if (existing) {
      const sameTerms =
        existing.amount === r.amount && same(existing.beneficiary, r.beneficiary) && existing.expiry === r.expiry;
      if (!sameTerms) throw c.error('MISMATCH', 'escrow exists with other terms', escrowId);
      return { ledger: c.ledger, escrowId, alreadyDone: true };
    }
    if (r.expiry <= c.now()) throw c.error('INVALID_ARGUMENT', 'expiry in the past', escrowId);
    if (c.balanceOf(signer, r.asset) < r.amount) throw c.error('INSUFFICIENT_BALANCE', 'balance', escrowId);
    const out = c.send(signer, { kind: 'deposit', signer, lockId: escrowId }, options, () => {
      c.move(signer, undefined, r.asset, r.amount);
      const view: Stored = {
        escrowId,
        tradeId: r.tradeId,
        depositor: signer,
        beneficiary: r.beneficiary,
        controller: r.controller,
        asset: r.asset,
        amount: r.amount,
        released: 0n,
        expiry: r.expiry,
        ...(r.hashlock !== undefined && { hashlock: r.hashlock }),
        ...(r.notary !== undefined && { notary: r.notary }),
        state: 'held',
        nonce: 0,
      };
      this.escrows.set(escrowId, view);
      return { escrowId, depositor: signer, amount: `${r.amount}` };
    });
    return { ...out, escrowId };
  }

  #open(escrowId: string, target: EscrowView['state']): Stored | undefined {
    const e = this.escrows.get(escrowId);
    if (!e) throw this.chain.error('NOT_FOUND', 'no such escrow', escrowId);
    if (e.state === target) return undefined;
    if (e.state !== 'held') throw this.chain.error('ALREADY_SETTLED', e.state, escrowId);
    return e;
  }

  release(
    signer: string,
    escrowId: string,
    amount: bigint,
    how: { readonly preimage?: string; readonly approval?: string },
    options: SendOptions,
  ): TxOutcome {
    const c = this.chain;
    const e = this.#open(escrowId, 'released');
    if (!e) return { ledger: c.ledger, alreadyDone: true };
    if (how.preimage === undefined && !same(signer, e.controller))
      throw c.error('NOT_AUTHORIZED', 'not the controller', escrowId);
    if (c.now() >= e.expiry) throw c.error('LOCK_EXPIRED', 'expired', escrowId);
    if (how.preimage !== undefined && !(e.hashlock && isPreimageOf(how.preimage, e.hashlock))) {
      throw c.error('BAD_PREIMAGE', 'preimage', escrowId);
    }
    if (amount > e.amount - e.released) throw c.error('EXCEEDS_ESCROW', 'exceeds', escrowId);
    if (e.notary !== undefined) this.#checkApproval(e, amount, how.approval);
    return c.send(signer, { kind: 'release', signer, lockId: escrowId }, options, () => {
      // The approval is used up by the release that used it (the EVM nonce, the chaincode's approval).
      e.nonce += 1;
      e.approved = undefined;
      c.move(undefined, e.beneficiary, e.asset, amount);
      const released = e.released + amount;
      const state = released === e.amount ? 'released' : 'held';
      this.escrows.set(escrowId, {
        ...e,
        released,
        state,
        ...(how.preimage !== undefined && { preimage: how.preimage }),
      });
      return { escrowId, amount: `${amount}`, ...(how.preimage !== undefined && { preimage: how.preimage }) };
    });
  }

  #checkApproval(e: Stored, amount: bigint, approval: string | undefined): void {
    const c = this.chain;
    const ok = c.ledger === 'fabric' ? e.approved === amount : approval === this.#signature(e, amount);
    if (!ok) throw c.error('NOT_APPROVED', 'no notary approval of this release', e.escrowId);
  }

  #signature(e: Stored, amount: bigint): string {
    const signed = `${e.notary?.toLowerCase()}|${e.escrowId}|${amount}|${e.nonce}`;
    return `0x${createHash('sha256').update(signed).digest('hex')}`;
  }

  approve(signer: string, escrowId: string, amount: bigint, options: SendOptions): ReleaseApproval {
    const c = this.chain;
    const e = this.#open(escrowId, 'released');
    if (!e || !same(signer, e.notary)) throw c.error('NOT_AUTHORIZED', 'not the notary', escrowId);
    if (c.ledger === 'evm') return { ledger: c.ledger, escrowId, amount, signature: this.#signature(e, amount) };
    const outcome = c.send(signer, { kind: 'approve', signer, lockId: escrowId }, options, () => {
      e.approved = amount;
      return { escrowId, amount: `${amount}` };
    });
    return { ledger: c.ledger, escrowId, amount, outcome };
  }

  returnEscrow(signer: string, escrowId: string, options: SendOptions): TxOutcome {
    const c = this.chain;
    const e = this.#open(escrowId, 'returned');
    if (!e) return { ledger: c.ledger, alreadyDone: true };
    if (!same(signer, e.controller)) {
      if (!same(signer, e.depositor)) throw c.error('NOT_AUTHORIZED', 'not depositor or controller', escrowId);
      if (c.now() < e.expiry) throw c.error('LOCK_NOT_EXPIRED', 'not expired', escrowId);
    }
    return c.send(signer, { kind: 'return', signer, lockId: escrowId }, options, () => {
      c.move(undefined, e.depositor, e.asset, e.amount - e.released);
      this.escrows.set(escrowId, { ...e, state: 'returned' });
      return { escrowId };
    });
  }

  read(escrowId: string): EscrowView | undefined {
    const e = this.escrows.get(escrowId);
    if (!e) return undefined;
    const { approved: _a, nonce: _n, preimage: _p, ...view } = e;
    return view;
  }

  preimage(escrowId: string): string | undefined {
    return this.escrows.get(escrowId)?.preimage;
  }
}
