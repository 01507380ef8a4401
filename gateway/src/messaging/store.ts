/**
 * Durable records of gateway messaging (tables of migration 2): the outbox (every message this
 * gateway will send, signed once and resent byte for byte until delivered), the inbox (the last
 * accepted link of each incoming chain, and every accepted hash). The counterparty's proposed
 * terms are the trade use case's, in store/terms.ts.
 */
import type { Db } from '../store/db';
import { GENESIS_HASH, type PeerEnvelope } from './envelope';

/** One outgoing message. */
export interface OutboxEntry {
  readonly to: string;
  readonly tradeId: string;
  readonly seq: number;
  readonly envelope: PeerEnvelope;
  readonly hash: string;
  readonly state: 'pending' | 'delivered';
  readonly attempts: number;
}

interface OutboxRow {
  owner: string;
  to_party: string;
  trade_id: string;
  seq: number;
  envelope: string;
  hash: string;
  state: 'pending' | 'delivered';
  attempts: number;
}

const outboxEntry = (r: OutboxRow): OutboxEntry => ({
  to: r.to_party,
  tradeId: r.trade_id,
  seq: r.seq,
  envelope: JSON.parse(r.envelope) as PeerEnvelope,
  hash: r.hash,
  state: r.state,
  attempts: r.attempts,
});

/** SQL over the messaging tables of one database, for the one party the gateway serves. */
export class PeerStore {
  /** The gateway's party: the sender of every outgoing chain, the addressee of every incoming one. */
  readonly party: string;
  readonly #db: Db;

  constructor(store: { readonly db: Db; readonly party: string }) {
    this.#db = store.db;
    this.party = store.party;
  }

  /** The outgoing message with this content, if it was already queued. */
  findByContent(to: string, tradeId: string, contentKey: string): OutboxEntry | undefined {
    const row = this.#db
      .prepare<[string, string, string, string], OutboxRow>(
        'SELECT * FROM peer_outbox WHERE owner = ? AND to_party = ? AND trade_id = ? AND content_key = ?',
      )
      .get(this.party, to, tradeId, contentKey);
    return row && outboxEntry(row);
  }

  /** Sequence number and hash the next outgoing message of the chain must carry. */
  nextLink(to: string, tradeId: string): { readonly seq: number; readonly prev: string } {
    const last = this.#db
      .prepare<[string, string, string], { seq: number; hash: string }>(
        'SELECT seq, hash FROM peer_outbox WHERE owner = ? AND to_party = ? AND trade_id = ? ORDER BY seq DESC LIMIT 1',
      )
      .get(this.party, to, tradeId);
    return last ? { seq: last.seq + 1, prev: last.hash } : { seq: 1, prev: GENESIS_HASH };
  }

  enqueue(e: PeerEnvelope, hash: string, contentKey: string, at: string): void {
    this.#db
      .prepare(
        `INSERT INTO peer_outbox (owner, to_party, trade_id, seq, type, content_key, envelope, hash, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
      )
      .run(e.from, e.to, e.tradeId, e.seq, e.type, contentKey, JSON.stringify(e), hash, at);
  }

  /** Pending messages of one chain, in order. */
  pending(to: string, tradeId: string): readonly OutboxEntry[] {
    return this.#db
      .prepare<[string, string, string], OutboxRow>(
        `SELECT * FROM peer_outbox WHERE state = 'pending' AND owner = ? AND to_party = ? AND trade_id = ? ORDER BY seq`,
      )
      .all(this.party, to, tradeId)
      .map(outboxEntry);
  }

  /** Chains with something pending whose first pending message is due (`at`: ISO 8601 now). */
  dueChains(at: string): readonly { readonly to: string; readonly tradeId: string }[] {
    return this.#db
      .prepare<[string, string], { to_party: string; trade_id: string }>(
        `SELECT to_party, trade_id FROM peer_outbox p WHERE owner = ? AND state = 'pending'
           AND seq = (SELECT MIN(seq) FROM peer_outbox q WHERE q.state = 'pending' AND q.owner = p.owner
                      AND q.to_party = p.to_party AND q.trade_id = p.trade_id)
           AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
         ORDER BY created_at`,
      )
      .all(this.party, at)
      .map((r) => ({ to: r.to_party, tradeId: r.trade_id }));
  }

  /** When the first pending message of a chain may be tried again (undefined: now). */
  nextAttempt(to: string, tradeId: string): string | undefined {
    const row = this.#db
      .prepare<[string, string, string], { next_attempt_at: string | null }>(
        `SELECT next_attempt_at FROM peer_outbox WHERE state = 'pending' AND owner = ? AND to_party = ? AND trade_id = ?
         ORDER BY seq LIMIT 1`,
      )
      .get(this.party, to, tradeId);
    return row?.next_attempt_at ?? undefined;
  }

  markDelivered(e: OutboxEntry, at: string): void {
    this.#db
      .prepare(
        `UPDATE peer_outbox SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, last_error = NULL
         WHERE owner = ? AND to_party = ? AND trade_id = ? AND seq = ?`,
      )
      .run(at, this.party, e.to, e.tradeId, e.seq);
  }

  /** Makes the chain's pending messages due now. */
  clearBackoff(to: string, tradeId: string): void {
    this.#db
      .prepare(
        `UPDATE peer_outbox SET next_attempt_at = NULL
         WHERE state = 'pending' AND owner = ? AND to_party = ? AND trade_id = ?`,
      )
      .run(this.party, to, tradeId);
  }

  /** Ends the backoff of every chain to `to`; how many pending messages it held back. */
  clearBackoffTo(to: string): number {
    return this.#db
      .prepare(
        `UPDATE peer_outbox SET next_attempt_at = NULL
         WHERE state = 'pending' AND owner = ? AND to_party = ? AND next_attempt_at IS NOT NULL`,
      )
      .run(this.party, to).changes;
  }

  /** Records a failed attempt; the chain is not retried by the timer before `nextAttemptAt`. */
  markFailed(e: OutboxEntry, error: string, nextAttemptAt: string): void {
    this.#db
      .prepare(
        `UPDATE peer_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
         WHERE owner = ? AND to_party = ? AND trade_id = ? AND seq = ?`,
      )
      .run(error.slice(0, 500), nextAttemptAt, this.party, e.to, e.tradeId, e.seq);
  }

  /** Every outgoing message of a trade (tests, diagnostics). */
  outbox(tradeId: string): readonly OutboxEntry[] {
    return this.#db
      .prepare<[string, string], OutboxRow>('SELECT * FROM peer_outbox WHERE owner = ? AND trade_id = ? ORDER BY seq')
      .all(this.party, tradeId)
      .map(outboxEntry);
  }

  /** The last accepted link of an incoming chain. */
  lastReceived(from: string, tradeId: string): { readonly seq: number; readonly hash: string } {
    const row = this.#db
      .prepare<[string, string, string], { seq: number; hash: string }>(
        'SELECT seq, hash FROM peer_inbox WHERE owner = ? AND from_party = ? AND trade_id = ? ORDER BY seq DESC LIMIT 1',
      )
      .get(this.party, from, tradeId);
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** True when a message with this hash was accepted before. */
  received(hash: string): boolean {
    return (
      this.#db.prepare<[string], { one: number }>('SELECT 1 AS one FROM peer_inbox WHERE hash = ?').get(hash) !==
      undefined
    );
  }

  recordReceived(e: PeerEnvelope, hash: string, signerFingerprint: string, at: string): void {
    this.#db
      .prepare(
        `INSERT INTO peer_inbox (owner, from_party, trade_id, seq, type, hash, signer_fingerprint, envelope, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.to, e.from, e.tradeId, e.seq, e.type, hash, signerFingerprint, JSON.stringify(e), at);
  }
}
