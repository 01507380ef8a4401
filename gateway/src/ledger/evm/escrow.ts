/**
 * Escrow terms on the EVM side: the `SettlementEscrow.deposit` arguments of a request, the
 * {@link EscrowView} of a stored escrow, and which terms of an existing escrow differ from a
 * request (a retried deposit must find exactly its own terms).
 */
import { getAddress, zeroAddress, zeroHash, type Address, type Hex } from 'viem';
import type { EscrowDepositRequest, EscrowView } from '../connector';
import { hex32, toBytes32Id } from './ids';

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
