/**
 * Trade routes: instruct (idempotent), read one, list, cancel. Every caller is an operator of the
 * party this gateway serves (trust/identity.ts refuses others), and the store holds that party's
 * trades only.
 */
import { TradeError } from '../../core/errors';
import { RequestError } from '../errors';
import type { EscrowParties, Trade, TradeInstruction, TradeQuery, TradeStatus } from '../../core/trade';
import { actorOf, type Handler, type RouteContext } from './context';

/** The request body after schema validation (strings for amounts). */
interface TradeRequestBody {
  readonly tradeId: string;
  readonly side: 'buy' | 'sell';
  readonly counterparty: string;
  readonly isin: string;
  readonly quantity: string;
  readonly price: string;
  readonly currency: string;
  readonly mode: TradeInstruction['mode'];
  readonly settlementDeadline: number;
  readonly partial: 'PART' | 'NPAR';
  readonly escrow?: EscrowParties;
}

const UINT256_MAX = (1n << 256n) - 1n;

const invalid = (field: string, reason: string): RequestError =>
  new RequestError('VALIDATION_FAILED', `${field} ${reason}`, { in: 'body', field, reason });

/**
 * The escrow parties: present exactly when the mode is `escrow_orchestrated`, each one a party of
 * the directory, none of them a bank of the trade, no two the same.
 */
function checkEscrowParties(ctx: RouteContext, body: TradeRequestBody, party: string): void {
  const { escrow } = body;
  if (body.mode !== 'escrow_orchestrated') {
    if (escrow !== undefined) throw invalid('body.escrow', 'is only for mode escrow_orchestrated');
    return;
  }
  if (escrow === undefined) throw invalid('body.escrow', 'is required for mode escrow_orchestrated (name the manager)');
  const seen = new Set([party, body.counterparty]);
  for (const [role, id] of Object.entries(escrow) as [string, string][]) {
    const field = `body.escrow.${role}`;
    if (!ctx.deps.directory.has(id)) throw invalid(field, `names '${id}', who is not in the directory`);
    if (seen.has(id)) throw invalid(field, `names '${id}', who is already a party of this trade`);
    seen.add(id);
  }
}

/** Checks what the schema cannot: counterparty known and not ourselves, deadline in the future, escrow parties. */
function toInstruction(ctx: RouteContext, body: TradeRequestBody): TradeInstruction {
  const party = actorOf(ctx).party;
  if (!ctx.deps.directory.has(body.counterparty)) {
    throw new TradeError('UNKNOWN_COUNTERPARTY', `counterparty '${body.counterparty}' is not in the directory`, {
      in: 'body',
      field: 'body.counterparty',
    });
  }
  if (body.counterparty === party) throw invalid('body.counterparty', 'must be another party than the caller’s');
  const nowSeconds = Math.floor(ctx.deps.now().getTime() / 1000);
  if (body.settlementDeadline <= nowSeconds) {
    throw invalid('body.settlementDeadline', 'must be in the future (unix seconds)');
  }
  checkEscrowParties(ctx, body, party);
  const quantity = BigInt(body.quantity);
  const price = BigInt(body.price);
  // The cash leg (quantity × price) must fit the cash ledger's integers, or it could never be locked.
  if (quantity * price > UINT256_MAX)
    throw invalid('body.price', 'times body.quantity exceeds 2^256 − 1 (the cash amount)');
  return { ...body, quantity, price };
}

/** A trade as JSON: bigint amounts as decimal strings. */
export function tradeToWire(trade: Trade): unknown {
  const i = trade.instruction;
  return { ...trade, instruction: { ...i, quantity: i.quantity.toString(), price: i.price.toString() } };
}

export const submitTrade: Handler = async (ctx) => {
  const actor = actorOf(ctx);
  const instruction = toInstruction(ctx, ctx.body as TradeRequestBody);
  const key = ctx.headers['idempotency-key'] as string;
  const { trade, replayed } = await ctx.deps.trades.submit(actor, key, instruction);
  return { status: replayed ? 200 : 201, json: tradeToWire(trade) };
};

export const getTrade: Handler = async (ctx) => {
  const trade = await ctx.deps.trades.get(ctx.params['id'] as string);
  return { status: 200, json: tradeToWire(trade) };
};

export const listTrades: Handler = async (ctx) => {
  const q = ctx.query;
  const query: TradeQuery = {
    ...(q['status'] !== undefined ? { status: q['status'] as TradeStatus } : {}),
    ...(q['counterparty'] !== undefined ? { counterparty: q['counterparty'] } : {}),
    ...(q['from'] !== undefined ? { from: q['from'] } : {}),
    ...(q['to'] !== undefined ? { to: q['to'] } : {}),
  };
  const trades = await ctx.deps.trades.list(query);
  return { status: 200, json: { trades: trades.map(tradeToWire) } };
};

export const cancelTrade: Handler = async (ctx) => {
  const trade = await ctx.deps.trades.cancel(actorOf(ctx), ctx.params['id'] as string);
  return { status: 200, json: tradeToWire(trade) };
};
