/**
 * The observer's log (core/observer.ts gives its vocabulary, settlement/observer/ appends to it):
 * every `record` message the observer received, with its whole signed envelope. Each entry's hash
 * is SHA-256 over the canonical JSON of (seq, time received, sender, trade id, envelope hash,
 * previous entry's hash), so changing, inserting or deleting any row breaks the chain from that
 * row on; the envelope itself is bound to its row by the envelope hash and its signature, which
 * the observer checks. One message is one entry: appending it again returns the first.
 */
import { canonicalHash } from '../core/canonical';
import type {
  ChainVerification,
  ObserverLog,
  ObserverLogEntry,
  ObserverLogQuery,
  ObserverLogRecord,
} from '../core/observer';
import type { Db } from './db';

/** `prevHash` of the first entry. */
export const OBSERVER_GENESIS_HASH = '0'.repeat(64);

interface ObserverRow {
  seq: number;
  received_at: string;
  from_party: string;
  trade_id: string;
  step: string;
  envelope_hash: string;
  envelope: string;
  prev_hash: string;
  hash: string;
}

function toEntry(row: ObserverRow): ObserverLogEntry {
  return {
    seq: row.seq,
    receivedAt: row.received_at,
    fromParty: row.from_party,
    tradeId: row.trade_id,
    step: row.step,
    envelopeHash: row.envelope_hash,
    envelope: row.envelope,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The hash an entry must carry: the chained fields, canonically serialized. */
export function observerEntryHash(
  entry: Pick<ObserverLogEntry, 'seq' | 'receivedAt' | 'fromParty' | 'tradeId' | 'envelopeHash' | 'prevHash'>,
): string {
  const { seq, receivedAt, fromParty, tradeId, envelopeHash, prevHash } = entry;
  return canonicalHash({ seq, receivedAt, fromParty, tradeId, envelopeHash, prevHash });
}

/** Creates the observer's log over `db` (already migrated). `now` is injectable for tests. */
export function createObserverLog(db: Db, now: () => Date = () => new Date()): ObserverLog {
  const last = db.prepare<[], { seq: number; hash: string }>(
    'SELECT seq, hash FROM observer_log ORDER BY seq DESC LIMIT 1',
  );
  const byEnvelope = db.prepare<[string], ObserverRow>('SELECT * FROM observer_log WHERE envelope_hash = ?');
  const insert = db.prepare(
    `INSERT INTO observer_log (seq, received_at, from_party, trade_id, step, envelope_hash, envelope, prev_hash, hash)
     VALUES (@seq, @receivedAt, @fromParty, @tradeId, @step, @envelopeHash, @envelope, @prevHash, @hash)`,
  );
  const append = db.transaction((record: ObserverLogRecord) => {
    const existing = byEnvelope.get(record.envelopeHash);
    if (existing) return { entry: toEntry(existing), added: false };
    const prev = last.get();
    const chained = {
      seq: (prev?.seq ?? 0) + 1,
      receivedAt: record.receivedAt ?? now().toISOString(),
      fromParty: record.fromParty,
      tradeId: record.tradeId,
      envelopeHash: record.envelopeHash,
      prevHash: prev?.hash ?? OBSERVER_GENESIS_HASH,
    };
    const entry: ObserverLogEntry = {
      ...chained,
      step: record.step,
      envelope: record.envelope,
      hash: observerEntryHash(chained),
    };
    insert.run(entry);
    return { entry, added: true };
  });
  return {
    append: (record) => append.immediate(record),
    query: (query) => queryLog(db, query),
    verify: () => verifyLog(db),
  };
}

const FILTERS = [
  ['tradeId', 'trade_id = @tradeId'],
  ['party', 'from_party = @party'],
  ['from', 'received_at >= @from'],
  ['to', 'received_at <= @to'],
] as const;

function queryLog(db: Db, query: ObserverLogQuery): readonly ObserverLogEntry[] {
  const where: string[] = [];
  const params: Record<string, string> = {};
  for (const [key, clause] of FILTERS) {
    const value = query[key];
    if (value === undefined) continue;
    where.push(clause);
    params[key] = value;
  }
  const sql = `SELECT * FROM observer_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
  return db.prepare<Record<string, string>, ObserverRow>(sql).all(params).map(toEntry);
}

function verifyLog(db: Db): ChainVerification {
  let prevHash = OBSERVER_GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for (const row of db.prepare<[], ObserverRow>('SELECT * FROM observer_log ORDER BY seq').iterate()) {
    const entry = toEntry(row);
    // A gap (deleted row), a broken link or a changed field all stop verification at this seq.
    const bad = entry.seq !== expectedSeq || entry.prevHash !== prevHash || entry.hash !== observerEntryHash(entry);
    if (bad) return { ok: false, checked, firstBadSeq: Math.min(entry.seq, expectedSeq) };
    checked += 1;
    expectedSeq += 1;
    prevHash = entry.hash;
  }
  return { ok: true, checked };
}
