/**
 * The gateway's durable store (SQLite): trades and timelines, idempotency keys, the audit log,
 * the ledger-action journal and the event followers' checkpoints. A store serves one party (the
 * gateway's): every trade, journal action and proposal it reads or writes is that party's, so no
 * signature above it carries an owner.
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
export { createObserverLog, observerEntryHash, OBSERVER_GENESIS_HASH } from './observer';

/** Everything stored in one database file. */
export interface GatewayStore {
  /** The party whose records these are (the `owner` of every row). */
  readonly party: string;
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
  /** The party the store serves (the gateway's `partyId`). */
  readonly party: string;
  /** Clock for every timestamp the store writes; default the system clock. */
  readonly now?: () => Date;
}

/**
 * Opens (and migrates) the store of `options.party` in `file`. A file that already holds another
 * party's trades is refused: one gateway's database is never shared with another's.
 */
export function openStore(file: string, options: Readonly<OpenStoreOptions>): GatewayStore {
  const db = openDatabase(file, options);
  const { party } = options;
  const other = db.prepare<[string], { owner: string }>('SELECT owner FROM trades WHERE owner <> ? LIMIT 1').get(party);
  if (other) {
    db.close();
    throw new Error(`${file} holds the trades of party '${other.owner}', not of '${party}'`);
  }
  const now = options.now ?? ((): Date => new Date());
  return {
    party,
    db,
    trades: new TradeStore(db, party),
    audit: createAuditLog(db, now),
    journal: new ActionJournal(db, party, now),
    followers: new FollowerStore(db, now),
    terms: new CounterpartyTermsStore(db, party),
    transaction: <T>(fn: () => T): T => db.transaction(fn).immediate(),
    close: () => db.close(),
  };
}
