/**
 * `GET /v1/balances`: the caller's party's securities and cash, read through a
 * {@link BalanceReader} the ledger side provides (a fake in tests).
 */
import type { Handler } from './context';
import { actorOf } from './context';

export interface SecurityBalance {
  readonly isin: string;
  readonly free: bigint;
  readonly locked: bigint;
}

export interface CashBalance {
  readonly currency: string;
  readonly free: bigint;
  readonly locked: bigint;
}

/** A ledger whose balances could not be read, and why (no numbers are made up for it). */
export interface UnavailableLedger {
  readonly ledger: 'fabric' | 'evm';
  readonly reason: string;
}

export interface PartyBalances {
  readonly securities: readonly SecurityBalance[];
  readonly cash: readonly CashBalance[];
  /** Ledgers left out of `securities` / `cash` because they cannot be read. */
  readonly unavailable?: readonly UnavailableLedger[];
}

/** Reads a party's balances on both ledgers. Throws TradeError LEDGER_UNAVAILABLE when it cannot. */
export interface BalanceReader {
  balances(party: string): Promise<PartyBalances>;
}

export const getBalances: Handler = async (ctx) => {
  const { party } = actorOf(ctx);
  const b = await ctx.deps.balances.balances(party);
  return {
    status: 200,
    json: {
      party,
      securities: b.securities.map((s) => ({ isin: s.isin, free: s.free.toString(), locked: s.locked.toString() })),
      cash: b.cash.map((c) => ({ currency: c.currency, free: c.free.toString(), locked: c.locked.toString() })),
      ...(b.unavailable?.length
        ? { unavailable: b.unavailable.map((u) => ({ ledger: u.ledger, reason: u.reason })) }
        : {}),
    },
  };
};
