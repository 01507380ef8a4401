/**
 * `GET /v1/balances`: the caller's party's securities and cash, read through a
 * {@link BalanceReader} the ledger side provides (a fake in tests).
 */
import type { Handler } from './context';
import { actorOf } from './context';

export const getBalances: Handler = async (ctx) => {
  const { party } = actorOf(ctx);
  const b = await ctx.deps.balances.balances(party);
  return {
    status: 200,
    json: {
      party,
      securities: b.securities.map((s) => ({ ...s, free: s.free.toString(), locked: s.locked.toString() })),
      cash: b.cash.map((c) => ({ ...c, free: c.free.toString(), locked: c.locked.toString() })),
      ...(b.unavailable?.length ? { unavailable: b.unavailable.map((u) => ({ ...u })) } : {}),
    },
  };
};
