/**
 * The vocabulary of the observer's log (settlement/observer/observer.ts appends to it and audits
 * it, store/observer.ts keeps it): one entry per `record` message received, hash-chained like the
 * audit log, each keeping the whole signed envelope so its signature can be checked again later.
 */
import type { AuditPage } from './trade';

/** What the observer appends: one verified `record` message. */
export interface ObserverLogRecord {
  /** The sending party (the envelope's `from`, verified by the inbox). */
  readonly fromParty: string;
  readonly tradeId: string;
  /** The record's `step` (settlement/observer/record.ts `RECORD_STEPS`). */
  readonly step: string;
  /** SHA-256 of the envelope's signed part (messaging `envelopeHash`): one entry per message. */
  readonly envelopeHash: string;
  /** The whole signed envelope, as JSON. */
  readonly envelope: string;
  /** ISO 8601; default now. */
  readonly receivedAt?: string;
}

/** One entry of the observer's log. */
export interface ObserverLogEntry {
  readonly seq: number;
  readonly receivedAt: string;
  readonly fromParty: string;
  readonly tradeId: string;
  readonly step: string;
  readonly envelopeHash: string;
  readonly envelope: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** Filters of {@link ObserverLog.query}; every given one must hold. */
export interface ObserverLogQuery {
  readonly tradeId?: string;
  /** The sending party. */
  readonly party?: string;
  /** ISO 8601 bounds on the time received, both inclusive. */
  readonly from?: string;
  readonly to?: string;
}

/** Verification of the whole chain: `firstBadSeq` is the first entry that does not verify. */
export type ChainVerification = AuditPage['verification'];

/** The observer's log of one gateway database. */
export interface ObserverLog {
  /**
   * Appends one entry, unless an entry with the same envelope hash exists: the same message
   * delivered again is not a second entry (`added` false, the first entry returned).
   */
  append(record: ObserverLogRecord): { readonly entry: ObserverLogEntry; readonly added: boolean };
  /** Entries matching every given filter, in seq order. */
  query(query: ObserverLogQuery): readonly ObserverLogEntry[];
  /** Recomputes the whole chain. */
  verify(): ChainVerification;
}
