/**
 * The observer of the orchestrated escrow (a regulator, an auditor: escrow-orchestrated/README.md,
 * step 8). It appends every `record` message it receives to its own hash-chained log, keeping the
 * whole signed envelope, and audits that log: the chain over the whole log, the signature of each
 * entry returned, and on request each returned record against the ledgers. It only reads; nothing
 * a record says makes it act.
 *
 * This folder sees ports only (the layering test): the log is core/observer.ts's `ObserverLog`
 * (store/observer.ts keeps it), the ledgers the connector port, and the signature check of a stored
 * envelope is injected by the wiring (messaging's `signatureValid`).
 */
import { canonicalHash, canonicalJson } from '../../core/canonical';
import type { ChainVerification, ObserverLog, ObserverLogEntry, ObserverLogQuery } from '../../core/observer';
import type { SettlementMessage } from '../mode';
import { verifyOnLedgers, type LedgerVerification, type ObserverConnectors } from './ledgers';
import { parseRecord, RecordError, type ObserverRecord } from './record';

/**
 * The logged step of a signed `record` whose body is outside the record vocabulary: it is kept
 * (evidence of what its sender said) and acknowledged, so the sender's later records still arrive,
 * and the audit lists it under `verification.records.invalid`.
 */
export const INVALID_STEP = 'invalid';

/** The signed envelope of a message, as far as the observer reads it (messaging's `PeerEnvelope`). */
export interface ObservedEnvelope {
  readonly from: string;
  readonly tradeId: string;
  readonly type: string;
  readonly body: Readonly<Record<string, string>>;
  readonly signature: string;
}

/**
 * A message that passed every check of the inbox (messaging/inbox.ts `ReceivedMessage`): `from` is
 * its verified signer, `envelope` the signed envelope as received and `hash` its envelope hash.
 */
export interface ObserverMessage extends SettlementMessage {
  readonly envelope: ObservedEnvelope;
  readonly hash: string;
}

/** Options of {@link createObserver}. */
export interface ObserverOptions {
  /** The observer's log. */
  readonly store: ObserverLog;
  /** The ledgers records are checked against; a ledger without a connector is unavailable. */
  readonly connectors: ObserverConnectors;
  /** True when a stored envelope (JSON) parses and its signature verifies with its `signer`. */
  readonly verifySignature: (envelopeJson: string) => boolean;
  /** Whether `party` may tell this observer about `tradeId`; default every party. */
  readonly isEntitled?: (party: string, tradeId: string) => boolean;
  readonly now?: () => Date;
}

/** Filters of {@link Observer.audit} (each given one must hold) and whether to read the ledgers. */
export interface ObserverAuditQuery extends ObserverLogQuery {
  readonly verifyLedgers?: boolean;
}

/**
 * One logged record: where it sits in the log, who sent it, and its body's fields. `step` is the
 * logged one; the body's fields are missing when the stored envelope no longer parses into a
 * record (its signature check fails then).
 */
export interface ObserverAuditEntry extends Partial<Omit<ObserverRecord, 'step'>> {
  readonly seq: number;
  readonly receivedAt: string;
  /** The sending party. */
  readonly from: string;
  readonly tradeId: string;
  readonly step: string;
  readonly envelopeHash: string;
  readonly hash: string;
  /** Why the stored envelope holds no record (step {@link INVALID_STEP}, or a log changed since). */
  readonly problem?: string;
}

/** The records of the entries returned that are outside the record vocabulary. */
export interface RecordVerification {
  readonly ok: boolean;
  readonly invalid: readonly number[];
}

/**
 * The signature check of the entries returned: an entry is `bad` unless its stored envelope is
 * the one its row names (hash, sender, trade, type `record`, step) and its signature verifies.
 */
export interface SignatureVerification {
  readonly ok: boolean;
  readonly checked: number;
  readonly bad: readonly number[];
}

/** Result of {@link Observer.audit}. */
export interface ObserverAuditPage {
  readonly entries: readonly ObserverAuditEntry[];
  readonly verification: {
    /** The whole log's chain, not just the entries returned. */
    readonly chain: ChainVerification;
    readonly signatures: SignatureVerification;
    readonly records: RecordVerification;
    /** Only when asked (`verifyLedgers`). */
    readonly ledgers?: LedgerVerification;
  };
}

/** The observer's side of the orchestrated escrow. */
export interface Observer {
  /**
   * Appends a `record` (other types are ignored, as is a record from a party not entitled to the
   * trade). Idempotent: the same message again is not a second entry. A body outside the record
   * vocabulary is appended as step {@link INVALID_STEP} and acknowledged (refusing it would stop
   * its sender's chain of messages for the trade for good).
   */
  onMessage(message: ObserverMessage): Promise<void>;
  /** The matching entries in log order, with the verification of the log. */
  audit(query?: ObserverAuditQuery): Promise<ObserverAuditPage>;
}

/** A logged entry with its envelope and record read back (undefined when they do not parse). */
interface Loaded {
  readonly entry: ObserverLogEntry;
  readonly envelope: Readonly<Record<string, unknown>> | undefined;
  readonly record: ObserverRecord | undefined;
  /** Why the envelope's body is not a record. */
  readonly problem: string | undefined;
}

/** The envelope hash as messaging makes it: SHA-256 of the canonical JSON of all but the signature. */
function envelopeHashOf(envelope: Readonly<Record<string, unknown>>): string {
  const { signature: _signature, ...signed } = envelope;
  return canonicalHash(signed);
}

/** The message's own fields are its envelope's (the wiring passes both); anything else is a bug. */
function assertOwnEnvelope(m: ObserverMessage): void {
  const e = m.envelope;
  const same =
    e.from === m.from.party &&
    e.tradeId === m.tradeId &&
    e.type === m.type &&
    canonicalJson(e.body) === canonicalJson(m.body) &&
    envelopeHashOf({ ...e }) === m.hash;
  if (!same) throw new Error(`observer: message ${m.hash} of ${m.tradeId} does not match its envelope`);
}

function parseObject(json: string): Readonly<Record<string, unknown>> | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function recordOf(envelope: Readonly<Record<string, unknown>> | undefined): Pick<Loaded, 'record' | 'problem'> {
  const body = envelope?.['body'];
  if (typeof body !== 'object' || body === null) return { record: undefined, problem: 'the body is not an object' };
  try {
    return { record: parseRecord(body as Readonly<Record<string, string>>), problem: undefined };
  } catch (err) {
    return { record: undefined, problem: err instanceof Error ? err.message : String(err) };
  }
}

function load(entry: ObserverLogEntry): Loaded {
  const envelope = parseObject(entry.envelope);
  if (!envelope) return { entry, envelope, record: undefined, problem: 'the stored envelope is not a JSON object' };
  return { entry, envelope, ...recordOf(envelope) };
}

/** The stored envelope is the one its row names (an invalid record's row says `invalid`). */
function boundToRow({ entry, envelope, record }: Loaded): boolean {
  if (!envelope) return false;
  const { from, tradeId, type } = envelope;
  const named = from === entry.fromParty && tradeId === entry.tradeId && type === 'record';
  const step = record ? record.step : INVALID_STEP;
  return named && step === entry.step && envelopeHashOf(envelope) === entry.envelopeHash;
}

function verifyRecords(loaded: readonly Loaded[]): RecordVerification {
  const invalid = loaded.filter((l) => l.record === undefined).map((l) => l.entry.seq);
  return { ok: invalid.length === 0, invalid };
}

function verifySignatures(
  loaded: readonly Loaded[],
  verifySignature: ObserverOptions['verifySignature'],
): SignatureVerification {
  const signed = (l: Loaded): boolean => {
    try {
      return verifySignature(l.entry.envelope);
    } catch {
      return false;
    }
  };
  const bad = loaded.filter((l) => !boundToRow(l) || !signed(l)).map((l) => l.entry.seq);
  return { ok: bad.length === 0, checked: loaded.length, bad };
}

function toAuditEntry({ entry, record, problem }: Loaded): ObserverAuditEntry {
  const { seq, receivedAt, fromParty, tradeId, step, envelopeHash, hash } = entry;
  const base = { seq, receivedAt, from: fromParty, tradeId, step, envelopeHash, hash };
  return record ? { ...record, ...base } : { ...base, ...(problem !== undefined && { problem }) };
}

/** The record of a message, or {@link INVALID_STEP} when its body is outside the vocabulary. */
function stepOf(message: ObserverMessage): string {
  try {
    return parseRecord(message.body, { tradeId: message.tradeId, from: message.from.party }).step;
  } catch (err) {
    if (err instanceof RecordError) return INVALID_STEP;
    throw err;
  }
}

/** Creates the observer over its log and the ledgers' connectors. */
export function createObserver(options: Readonly<ObserverOptions>): Observer {
  const { store, connectors, verifySignature } = options;
  const isEntitled = options.isEntitled ?? ((): boolean => true);
  const now = options.now ?? ((): Date => new Date());
  return {
    async onMessage(message) {
      if (message.type !== 'record' || !isEntitled(message.from.party, message.tradeId)) return;
      assertOwnEnvelope(message);
      store.append({
        fromParty: message.from.party,
        tradeId: message.tradeId,
        step: stepOf(message),
        envelopeHash: message.hash,
        envelope: canonicalJson(message.envelope),
        receivedAt: now().toISOString(),
      });
    },
    async audit(query = {}) {
      const { verifyLedgers = false, ...filters } = query;
      const loaded = store.query(filters).map(load);
      const entries = loaded.map(toAuditEntry);
      const chain = store.verify();
      const signatures = verifySignatures(loaded, verifySignature);
      const records = verifyRecords(loaded);
      if (!verifyLedgers) return { entries, verification: { chain, signatures, records } };
      const checked = loaded.map(({ entry, record }) => ({ seq: entry.seq, tradeId: entry.tradeId, record }));
      const ledgers = await verifyOnLedgers(checked, connectors);
      return { entries, verification: { chain, signatures, records, ledgers } };
    },
  };
}
