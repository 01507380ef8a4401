/**
 * Test-only in-memory {@link TradeService} and {@link BalanceReader} for HTTP-layer tests. It keeps
 * the contract the routes rely on (idempotency per key, party scoping, cancel transitions, an
 * audit list) without durability. Never use in product code.
 */
import { createHash } from 'node:crypto';
import type { BalanceReader, PartyBalances } from '../src/trades/balances';
import {
  type Actor,
  type AuditEntry,
  type AuditPage,
  type AuditQuery,
  type SubmitResult,
  type Trade,
  type TradeInstruction,
  type TradeQuery,
} from '../src/core/trade';
import { type TradeService } from '../src/trades/ports';
import { TradeError } from '../src/core/errors';

const FINAL = new Set(['settled', 'cancelled', 'failed']);

function fingerprintOf(i: TradeInstruction): string {
  return JSON.stringify({ ...i, quantity: i.quantity.toString(), price: i.price.toString() });
}

/** The fake plus what tests inspect or seed. */
export interface FakeTradeService extends TradeService {
  /** Adds a trade as if created earlier (any owner). */
  seed(trade: Trade): void;
  /** Every call, in order: method and actor party. */
  readonly calls: { readonly method: string; readonly party: string }[];
  /** Makes the next call throw this error. */
  failNext(err: Error): void;
}

/** Creates an empty fake serving `party` (like a store, it shows that party's trades only). `now` stamps records. */
export function createFakeTradeService(party: string, now: () => Date = () => new Date()): FakeTradeService {
  const trades = new Map<string, Trade>();
  const keys = new Map<string, { fingerprint: string; tradeId: string }>();
  const audit: AuditEntry[] = [];
  const calls: { method: string; party: string }[] = [];
  let pending: Error | undefined;

  const record = (actor: Actor, event: string, tradeId: string | null): void => {
    const prevHash = audit.at(-1)?.hash ?? '0'.repeat(64);
    const at = now().toISOString();
    const hash = createHash('sha256')
      .update(`${prevHash}|${at}|${actor.fingerprint}|${event}|${tradeId}`)
      .digest('hex');
    audit.push({
      seq: audit.length + 1,
      at,
      actor: actor.fingerprint,
      party: actor.party,
      event,
      tradeId,
      prevHash,
      hash,
    });
  };
  const enter = (method: string, party: string): void => {
    calls.push({ method, party });
    const err = pending;
    pending = undefined;
    if (err) throw err;
  };
  const owned = (party: string, tradeId: string): Trade => {
    const t = trades.get(tradeId);
    if (!t || t.owner !== party) throw new TradeError('TRADE_NOT_FOUND', `trade ${tradeId} not found`, { tradeId });
    return t;
  };

  return {
    calls,
    seed: (trade) => void trades.set(trade.tradeId, trade),
    failNext: (err) => void (pending = err),
    async submit(actor, key, instruction): Promise<SubmitResult> {
      enter('submit', actor.party);
      const scoped = `${actor.party}\u0000${key}`;
      const seen = keys.get(scoped);
      if (seen) {
        const trade = trades.get(seen.tradeId) as Trade;
        if (seen.fingerprint !== fingerprintOf(instruction)) {
          throw new TradeError('IDEMPOTENCY_CONFLICT', `key ${key} was used for another instruction`, {
            tradeId: seen.tradeId,
          });
        }
        return { trade, replayed: true };
      }
      if (trades.has(instruction.tradeId)) {
        throw new TradeError('TRADE_EXISTS', `trade ${instruction.tradeId} exists`, { tradeId: instruction.tradeId });
      }
      const at = now().toISOString();
      const trade: Trade = {
        tradeId: instruction.tradeId,
        owner: actor.party,
        instruction,
        status: 'received',
        createdAt: at,
        updatedAt: at,
        timeline: [{ at, actor: actor.fingerprint, event: 'instructed', status: 'received' }],
      };
      trades.set(trade.tradeId, trade);
      keys.set(scoped, { fingerprint: fingerprintOf(instruction), tradeId: trade.tradeId });
      record(actor, 'instructed', trade.tradeId);
      return { trade, replayed: false };
    },
    async get(tradeId) {
      enter('get', party);
      return owned(party, tradeId);
    },
    async list(query: TradeQuery) {
      enter('list', party);
      return [...trades.values()].filter(
        (t) =>
          t.owner === party &&
          (query.status === undefined || t.status === query.status) &&
          (query.counterparty === undefined || t.instruction.counterparty === query.counterparty) &&
          (query.from === undefined || t.createdAt >= query.from) &&
          (query.to === undefined || t.createdAt <= query.to),
      );
    },
    async cancel(actor, tradeId) {
      enter('cancel', actor.party);
      const t = owned(actor.party, tradeId);
      if (FINAL.has(t.status)) {
        throw new TradeError('INVALID_TRANSITION', `trade ${tradeId} is ${t.status}`, { tradeId, status: t.status });
      }
      const at = now().toISOString();
      const next: Trade = {
        ...t,
        status: 'cancelled',
        reason: 'CANC',
        updatedAt: at,
        timeline: [...t.timeline, { at, actor: actor.fingerprint, event: 'cancelled', status: 'cancelled' }],
      };
      trades.set(tradeId, next);
      record(actor, 'cancelled', tradeId);
      return next;
    },
    async audit(query: AuditQuery): Promise<AuditPage> {
      enter('audit', query.party ?? '');
      const entries = audit.filter(
        (e) =>
          (query.tradeId === undefined || e.tradeId === query.tradeId) &&
          (query.party === undefined || e.party === query.party),
      );
      return { entries, verification: { ok: true, checked: audit.length } };
    },
  };
}

/** A fixed {@link BalanceReader}. */
export function fakeBalances(balances: PartyBalances = { securities: [], cash: [] }): BalanceReader {
  return { balances: async () => balances };
}
