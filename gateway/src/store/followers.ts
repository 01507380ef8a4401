/**
 * Durable state of ledger event followers: a checkpoint per (ledger, stream) and an inbox of the
 * events read up to it. Events and the checkpoint advance in one transaction, and the inbox is
 * unique per (ledger, stream, block, log index), so a restart neither misses nor re-reads an
 * event; handlers then consume the inbox in order and mark each event handled.
 */
import type { CheckpointStore, LedgerEvent, StoredLedgerEvent } from '../ledger/connector';
import type { LedgerName } from '../core/trade';
import { canonicalJson } from '../core/canonical';
import type { Db } from './db';

interface EventRow {
  id: number;
  ledger: LedgerName;
  stream: string;
  block: number;
  log_index: number;
  tx_id: string;
  kind: string;
  ref: string;
  data: string;
}

function toEvent(row: EventRow): StoredLedgerEvent {
  return {
    id: row.id,
    ledger: row.ledger,
    stream: row.stream,
    block: BigInt(row.block),
    logIndex: row.log_index,
    txId: row.tx_id,
    kind: row.kind,
    ref: row.ref,
    data: JSON.parse(row.data) as Record<string, string>,
  };
}

function toSqlBlock(block: bigint): number {
  if (block < 0n || block > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`block ${block} out of range`);
  return Number(block);
}

/** Checkpoints and inbox of the event followers. */
export class FollowerStore implements CheckpointStore {
  readonly #db: Db;
  readonly #now: () => Date;

  /** Wraps an open, migrated database; `now` is injectable for tests. */
  constructor(db: Db, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
  }

  /** The last block fully read for (ledger, stream), or undefined before the first read. */
  checkpoint(ledger: LedgerName, stream: string): bigint | undefined {
    const row = this.#db
      .prepare<[string, string], { last_block: number }>(
        'SELECT last_block FROM follower_checkpoints WHERE ledger = ? AND stream = ?',
      )
      .get(ledger, stream);
    return row && BigInt(row.last_block);
  }

  /**
   * In one transaction: adds `events` (all from blocks up to `toBlock`) to the inbox, ignoring
   * any already there, and moves the checkpoint to `toBlock`. Returns how many were new.
   */
  ingest(ledger: LedgerName, stream: string, toBlock: bigint, events: readonly LedgerEvent[]): number {
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO ledger_events (ledger, stream, block, log_index, tx_id, kind, ref, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const save = this.#db.prepare(
      `INSERT INTO follower_checkpoints (ledger, stream, last_block, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ledger, stream) DO UPDATE SET last_block = excluded.last_block, updated_at = excluded.updated_at`,
    );
    const run = this.#db.transaction(() => {
      let added = 0;
      for (const e of events) {
        const data = canonicalJson(e.data);
        added += insert.run(ledger, stream, toSqlBlock(e.block), e.logIndex, e.txId, e.kind, e.ref, data).changes;
      }
      save.run(ledger, stream, toSqlBlock(toBlock), this.#now().toISOString());
      return added;
    });
    return run.immediate();
  }

  /** Inbox events of (ledger, stream) not yet handled, in ledger order. */
  unhandled(ledger: LedgerName, stream: string): readonly StoredLedgerEvent[] {
    return this.#db
      .prepare<[string, string], EventRow>(
        `SELECT * FROM ledger_events WHERE ledger = ? AND stream = ? AND handled_at IS NULL ORDER BY block, log_index`,
      )
      .all(ledger, stream)
      .map(toEvent);
  }

  /** Marks an inbox event handled. */
  markHandled(id: number): void {
    this.#db.prepare('UPDATE ledger_events SET handled_at = ? WHERE id = ?').run(this.#now().toISOString(), id);
  }

  /** Every inbox event of (ledger, stream), handled or not, in ledger order (for audits and tests). */
  all(ledger: LedgerName, stream: string): readonly StoredLedgerEvent[] {
    return this.#db
      .prepare<[string, string], EventRow>(
        'SELECT * FROM ledger_events WHERE ledger = ? AND stream = ? ORDER BY block, log_index',
      )
      .all(ledger, stream)
      .map(toEvent);
  }
}
