/**
 * Trades, their timelines and idempotency keys. Every write here is meant to run inside a
 * transaction opened by the engine, together with the matching audit entry.
 */
import { assertTransition } from '../core/state-machine';
import type {
  LedgerName,
  LegName,
  TimelineStep,
  Trade,
  TradeInstruction,
  TradeQuery,
  TradeStatus,
} from '../core/trade';
import { TradeError } from '../core/errors';
import { canonicalJson } from '../core/canonical';
import type { Db } from './db';

/** Which side asked to cancel: this gateway's operator or the counterparty's gateway. */
export type CancelSide = 'own' | 'counterparty';

/** A stored trade plus the per-side cancel flags the API does not show. */
export interface StoredTrade extends Trade {
  readonly cancelRequested: { readonly own: boolean; readonly counterparty: boolean };
}

/** A recorded idempotency key. */
export interface IdempotencyRecord {
  readonly bodyHash: string;
  readonly tradeId: string;
}

interface TradeRow {
  owner: string;
  trade_id: string;
  instruction: string;
  status: TradeStatus;
  reason: string | null;
  own_cancel: number;
  counterparty_cancel: number;
  created_at: string;
  updated_at: string;
}

interface TimelineRow {
  at: string;
  actor: string;
  event: string;
  status: TradeStatus;
  leg: LegName | null;
  ledger: LedgerName | null;
  tx_id: string | null;
  block: string | null;
  detail: string | null;
}

/** Serializes an instruction for storage (bigints as decimal strings, sorted keys). */
export function encodeInstruction(instruction: TradeInstruction): string {
  return canonicalJson(instruction);
}

/** Inverse of {@link encodeInstruction}. */
export function decodeInstruction(json: string): TradeInstruction {
  const raw = JSON.parse(json) as Omit<TradeInstruction, 'quantity' | 'price'> & { quantity: string; price: string };
  return { ...raw, quantity: BigInt(raw.quantity), price: BigInt(raw.price) };
}

function toStep(row: TimelineRow): TimelineStep {
  return {
    at: row.at,
    actor: row.actor,
    event: row.event,
    status: row.status,
    ...(row.leg !== null && { leg: row.leg }),
    ...(row.ledger !== null && { ledger: row.ledger }),
    ...(row.tx_id !== null && { txId: row.tx_id }),
    ...(row.block !== null && { block: row.block }),
    ...(row.detail !== null && { detail: JSON.parse(row.detail) as Record<string, string> }),
  };
}

/** Data access for the trades of the one party the store serves (its rows' `owner`). */
export class TradeStore {
  readonly #db: Db;
  readonly #party: string;

  /** Wraps an open, migrated database; every row read or written is `party`'s. */
  constructor(db: Db, party: string) {
    this.#db = db;
    this.#party = party;
  }

  /** The trade `tradeId`, or undefined. */
  find(tradeId: string): StoredTrade | undefined {
    const row = this.#db
      .prepare<[string, string], TradeRow>('SELECT * FROM trades WHERE owner = ? AND trade_id = ?')
      .get(this.#party, tradeId);
    return row && this.#hydrate(row);
  }

  /** Like {@link find} but throws `TRADE_NOT_FOUND`. */
  require(tradeId: string): StoredTrade {
    const trade = this.find(tradeId);
    if (!trade) throw new TradeError('TRADE_NOT_FOUND', `no trade ${tradeId}`, { tradeId });
    return trade;
  }

  /** Trades matching every given filter, oldest first. */
  list(query: TradeQuery): readonly StoredTrade[] {
    const where = ['owner = @owner'];
    const params: Record<string, string> = { owner: this.#party };
    const add = (clause: string, key: string, value: string | undefined): void => {
      if (value === undefined) return;
      where.push(clause);
      params[key] = value;
    };
    add('status = @status', 'status', query.status);
    add('counterparty = @counterparty', 'counterparty', query.counterparty);
    add('created_at >= @from', 'from', query.from);
    add('created_at <= @to', 'to', query.to);
    const sql = `SELECT * FROM trades WHERE ${where.join(' AND ')} ORDER BY created_at, trade_id`;
    return this.#db
      .prepare<Record<string, string>, TradeRow>(sql)
      .all(params)
      .map((row) => this.#hydrate(row));
  }

  /** Number of trades per status (statuses without trades are absent). */
  countByStatus(): Partial<Record<TradeStatus, number>> {
    const rows = this.#db
      .prepare<[string], { status: TradeStatus; n: number }>(
        'SELECT status, COUNT(*) AS n FROM trades WHERE owner = ? GROUP BY status',
      )
      .all(this.#party);
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** Trades that are not in a terminal status, oldest first (for resuming). */
  active(): readonly StoredTrade[] {
    return this.#db
      .prepare<[string], TradeRow>(
        `SELECT * FROM trades WHERE owner = ? AND status NOT IN ('settled', 'cancelled', 'failed')
         ORDER BY created_at, trade_id`,
      )
      .all(this.#party)
      .map((row) => this.#hydrate(row));
  }

  /** Inserts a new trade in `received`; throws `TRADE_EXISTS` if the id is taken. */
  insert(instruction: TradeInstruction, at: string): void {
    if (this.find(instruction.tradeId)) {
      throw new TradeError('TRADE_EXISTS', `trade ${instruction.tradeId} already exists`, {
        tradeId: instruction.tradeId,
      });
    }
    this.#db
      .prepare(
        `INSERT INTO trades (owner, trade_id, counterparty, instruction, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'received', ?, ?)`,
      )
      .run(this.#party, instruction.tradeId, instruction.counterparty, encodeInstruction(instruction), at, at);
  }

  /** Moves a trade to `to`, enforcing the state machine; `reason` is kept for cancelled/failed. */
  setStatus(tradeId: string, to: TradeStatus, at: string, reason?: string): void {
    const current = this.require(tradeId);
    assertTransition(tradeId, current.status, to);
    this.#db
      .prepare('UPDATE trades SET status = ?, reason = ?, updated_at = ? WHERE owner = ? AND trade_id = ?')
      .run(to, reason ?? null, at, this.#party, tradeId);
  }

  /** Sets one side's cancel flag. */
  flagCancel(tradeId: string, side: CancelSide, at: string): void {
    const column = side === 'own' ? 'own_cancel' : 'counterparty_cancel';
    this.#db
      .prepare(`UPDATE trades SET ${column} = 1, updated_at = ? WHERE owner = ? AND trade_id = ?`)
      .run(at, this.#party, tradeId);
  }

  /** Appends a step to the trade's timeline. */
  addStep(tradeId: string, step: TimelineStep): void {
    this.#db
      .prepare(
        `INSERT INTO timeline (owner, trade_id, at, actor, event, status, leg, ledger, tx_id, block, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        this.#party,
        tradeId,
        step.at,
        step.actor,
        step.event,
        step.status,
        step.leg ?? null,
        step.ledger ?? null,
        step.txId ?? null,
        step.block ?? null,
        step.detail ? canonicalJson(step.detail) : null,
      );
  }

  /** The idempotency record of `key`, if the key was seen. */
  findKey(key: string): IdempotencyRecord | undefined {
    const row = this.#db
      .prepare<[string, string], { body_hash: string; trade_id: string }>(
        'SELECT body_hash, trade_id FROM idempotency_keys WHERE owner = ? AND idem_key = ?',
      )
      .get(this.#party, key);
    return row && { bodyHash: row.body_hash, tradeId: row.trade_id };
  }

  /** Records an idempotency key (primary key: a second insert of the same key fails). */
  recordKey(key: string, record: IdempotencyRecord, at: string): void {
    this.#db
      .prepare('INSERT INTO idempotency_keys (owner, idem_key, body_hash, trade_id, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(this.#party, key, record.bodyHash, record.tradeId, at);
  }

  #hydrate(row: TradeRow): StoredTrade {
    const steps = this.#db
      .prepare<[string, string], TimelineRow>('SELECT * FROM timeline WHERE owner = ? AND trade_id = ? ORDER BY id')
      .all(row.owner, row.trade_id);
    return {
      tradeId: row.trade_id,
      owner: row.owner,
      instruction: decodeInstruction(row.instruction),
      status: row.status,
      ...(row.reason !== null && { reason: row.reason }),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      timeline: steps.map(toStep),
      cancelRequested: { own: row.own_cancel === 1, counterparty: row.counterparty_cancel === 1 },
    };
  }
}
