/**
 * Hash-chained audit log. Each entry's hash is SHA-256 over the canonical JSON of the entry
 * (seq, time, actor fingerprint, party, event, trade id) including the previous entry's hash, so
 * changing, inserting or deleting any row breaks the chain from that row on. Entries are appended
 * inside the caller's SQLite transaction, together with the state change they record.
 */
import { canonicalHash } from '../core/canonical';
import type { Db } from './db';
import type { AuditEntry, AuditPage, AuditQuery } from '../core/trade';

/** `prevHash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a caller supplies; seq, hashes and (by default) the time are filled in. */
export interface AuditRecord {
  /** SHA-256 fingerprint of the acting certificate. */
  readonly actor: string;
  readonly party: string;
  readonly event: string;
  readonly tradeId: string | null;
  /** ISO 8601; default now. */
  readonly at?: string;
}

/** Result of {@link AuditLog.verify}. */
export type AuditVerification = AuditPage['verification'];

/** The audit log of one gateway database. */
export interface AuditLog {
  /**
   * Appends one entry. Call it inside the transaction that makes the change it records: it runs
   * as a savepoint there, or as its own transaction when called alone.
   */
  append(record: AuditRecord): AuditEntry;
  /** Entries matching every given filter, in seq order. */
  query(query: AuditQuery): readonly AuditEntry[];
  /** Recomputes the whole chain; `firstBadSeq` is the first entry that does not verify. */
  verify(): AuditVerification;
}

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  party: string;
  event: string;
  trade_id: string | null;
  prev_hash: string;
  hash: string;
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    party: row.party,
    event: row.event,
    tradeId: row.trade_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The hash an entry must carry: everything but the hash itself, canonically serialized. */
export function auditHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, party, event, tradeId, prevHash } = entry;
  return canonicalHash({ seq, at, actor, party, event, tradeId, prevHash });
}

/** Creates the audit log over `db` (already migrated). `now` is injectable for tests. */
export function createAuditLog(db: Db, now: () => Date = () => new Date()): AuditLog {
  const last = db.prepare<[], { seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  );
  const insert = db.prepare(
    `INSERT INTO audit_log (seq, at, actor, party, event, trade_id, prev_hash, hash)
     VALUES (@seq, @at, @actor, @party, @event, @tradeId, @prevHash, @hash)`,
  );
  const append = db.transaction((record: AuditRecord): AuditEntry => {
    const prev = last.get();
    const body = {
      seq: (prev?.seq ?? 0) + 1,
      at: record.at ?? now().toISOString(),
      actor: record.actor,
      party: record.party,
      event: record.event,
      tradeId: record.tradeId,
      prevHash: prev?.hash ?? GENESIS_HASH,
    };
    const entry: AuditEntry = { ...body, hash: auditHash(body) };
    insert.run(entry);
    return entry;
  });
  return {
    append: (record) => append.immediate(record),
    query: (query) => queryAudit(db, query),
    verify: () => verifyAudit(db),
  };
}

const AUDIT_FILTERS = [
  ['tradeId', 'trade_id = @tradeId'],
  ['party', 'party = @party'],
  ['from', 'at >= @from'],
  ['to', 'at <= @to'],
] as const;

function queryAudit(db: Db, query: AuditQuery): readonly AuditEntry[] {
  const where: string[] = [];
  const params: Record<string, string> = {};
  for (const [key, clause] of AUDIT_FILTERS) {
    const value = query[key];
    if (value === undefined) continue;
    where.push(clause);
    params[key] = value;
  }
  const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
  return db.prepare<Record<string, string>, AuditRow>(sql).all(params).map(toEntry);
}

function verifyAudit(db: Db): AuditVerification {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for (const row of db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY seq').iterate()) {
    const entry = toEntry(row);
    // A gap (deleted row), a broken link or a changed field all stop verification at this seq.
    const bad = entry.seq !== expectedSeq || entry.prevHash !== prevHash || entry.hash !== auditHash(entry);
    if (bad) return { ok: false, checked, firstBadSeq: Math.min(entry.seq, expectedSeq) };
    checked += 1;
    expectedSeq += 1;
    prevHash = entry.hash;
  }
  return { ok: true, checked };
}
