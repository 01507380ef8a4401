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

export interface PartyBalances {
  readonly securities: readonly SecurityBalance[];
  readonly cash: readonly CashBalance[];
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
    },
  };
};
