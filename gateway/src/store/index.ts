/**
 * The gateway's durable store (SQLite): trades and timelines, idempotency keys, the audit log,
 * the ledger-action journal and the event followers' checkpoints.
 */
import { createAuditLog, type AuditLog } from './audit';
import { openDatabase, type Db, type OpenDatabaseOptions } from './db';
import { FollowerStore } from './followers';
import { ActionJournal } from './journal';
import { TradeStore } from './trades';
import { CounterpartyTermsStore } from './terms';

export { openDatabase, schemaVersion, type Db, type OpenDatabaseOptions } from './db';
export { MIGRATIONS, type Migration } from './migrations';
export { TradeStore, type StoredTrade, type CancelSide, type IdempotencyRecord } from './trades';
export { ActionJournal, type ActionIntent, type PreparedSend } from './journal';
export { FollowerStore } from './followers';
export { CounterpartyTermsStore, type CounterpartyTerms } from './terms';

/** Everything stored in one database file. */
export interface GatewayStore {
  readonly db: Db;
  readonly trades: TradeStore;
  readonly audit: AuditLog;
  readonly journal: ActionJournal;
  readonly followers: FollowerStore;
  /** The counterparty's proposed terms of each trade (matching). */
  readonly terms: CounterpartyTermsStore;
  /** Runs `fn` in one immediate (write-locked) transaction; nested calls become savepoints. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions extends OpenDatabaseOptions {
  /** Clock for every timestamp the store writes; default the system clock. */
  readonly now?: () => Date;
}

/** Opens (and migrates) the store in `file`. */
export function openStore(file: string, options: Readonly<OpenStoreOptions> = {}): GatewayStore {
  const db = openDatabase(file, options);
  const now = options.now ?? ((): Date => new Date());
  return {
    db,
    trades: new TradeStore(db),
    audit: createAuditLog(db, now),
    journal: new ActionJournal(db, now),
    followers: new FollowerStore(db, now),
    terms: new CounterpartyTermsStore(db),
    transaction: <T>(fn: () => T): T => db.transaction(fn).immediate(),
    close: () => db.close(),
  };
}
