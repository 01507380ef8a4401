/**
 * The ledger actions a settlement mode asks for (`SettlementContext.perform`), and their flat
 * string form in the journal: {@link encodeSpec} and its inverse {@link decodeSpec}, so a mode can
 * read back what it asked for from the trade's journal after a restart.
 */
import type { ActionKind } from '../core/journal';
import type { EscrowDepositRequest, LockRequest, TxOutcome } from '../ledger/connector';

/** A ledger action, with everything needed to perform (or redo) it. */
export type ActionSpec =
  | { readonly kind: 'lock'; readonly request: LockRequest }
  | { readonly kind: 'claim'; readonly lockId: string; readonly preimage: string }
  | { readonly kind: 'refund'; readonly lockId: string }
  | { readonly kind: 'deposit'; readonly request: EscrowDepositRequest }
  | {
      readonly kind: 'release';
      readonly escrowId: string;
      readonly amount: bigint;
      readonly approval?: string;
      /** Release with the hashlock's preimage (anyone may) instead of as the controller. */
      readonly preimage?: string;
    }
  | { readonly kind: 'return'; readonly escrowId: string };

/** Outcome of a journaled action; `ledgerRef` is the lock/escrow id on the ledger. */
export interface ActionOutcome extends TxOutcome {
  readonly actionId: number;
  readonly ledgerRef: string;
}

export type Params = Record<string, string>;

export function defined(entries: Record<string, string | bigint | number | undefined>): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) out[k] = v.toString();
  return out;
}

/** Flattens a spec into the journal's string map (amounts as decimal strings). */
export function encodeSpec(spec: ActionSpec): Params {
  switch (spec.kind) {
    case 'lock':
    case 'deposit':
      return defined({ ...spec.request });
    case 'claim':
      return { lockId: spec.lockId, preimage: spec.preimage };
    case 'refund':
      return { lockId: spec.lockId };
    case 'release':
      return defined({
        escrowId: spec.escrowId,
        amount: spec.amount,
        approval: spec.approval,
        preimage: spec.preimage,
      });
    case 'return':
      return { escrowId: spec.escrowId };
  }
}

function need(params: Readonly<Params>, key: string): string {
  const v = params[key];
  if (v === undefined) throw new Error(`journal params lack ${key}`);
  return v;
}

/** Inverse of {@link encodeSpec}. */
export function decodeSpec(kind: ActionKind, p: Readonly<Params>): ActionSpec {
  const opt = (k: string): Params => (p[k] === undefined ? {} : { [k]: need(p, k) });
  switch (kind) {
    case 'lock': {
      const base = { receiver: need(p, 'receiver'), asset: need(p, 'asset'), hashlock: need(p, 'hashlock') };
      const request = {
        ...base,
        ...opt('lockId'),
        amount: BigInt(need(p, 'amount')),
        expiry: Number(need(p, 'expiry')),
      };
      return { kind, request };
    }
    case 'deposit': {
      const ids = { tradeId: need(p, 'tradeId'), asset: need(p, 'asset') };
      const parties = { beneficiary: need(p, 'beneficiary'), controller: need(p, 'controller') };
      const extra = { ...opt('hashlock'), ...opt('notary') };
      return {
        kind,
        request: { ...ids, ...parties, ...extra, amount: BigInt(need(p, 'amount')), expiry: Number(need(p, 'expiry')) },
      };
    }
    case 'claim':
      return { kind, lockId: need(p, 'lockId'), preimage: need(p, 'preimage') };
    case 'refund':
      return { kind, lockId: need(p, 'lockId') };
    case 'release':
      return {
        kind,
        escrowId: need(p, 'escrowId'),
        amount: BigInt(need(p, 'amount')),
        ...opt('approval'),
        ...opt('preimage'),
      };
    case 'return':
      return { kind, escrowId: need(p, 'escrowId') };
  }
}
