/**
 * Opens the gateway's SQLite database: pragmas for durability, then pending migrations.
 */
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations';

/** The better-sqlite3 connection type used across the store. */
export type Db = Database.Database;

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Milliseconds a writer waits for another connection's lock; default 5000. */
  readonly busyTimeoutMs?: number;
  /** Schema steps to apply; default {@link MIGRATIONS} (tests pass more to check upgrades). */
  readonly migrations?: readonly Migration[];
}

/**
 * Opens (creating if needed) the database at `file` and migrates it to the latest version.
 *
 * Durability: WAL journal with `synchronous = FULL`. In WAL mode `NORMAL` only syncs at
 * checkpoints, so a power loss could drop the last committed transactions; the ledger-action
 * journal must survive exactly that (an intent recorded, then a transaction broadcast), so every
 * commit is fsynced. The cost is one fsync per commit, which is small next to a ledger round trip.
 */
export function openDatabase(file: string, options: Readonly<OpenDatabaseOptions> = {}): Db {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    migrate(db, options.migrations ?? MIGRATIONS);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The schema version of `db` (`PRAGMA user_version`). */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, migrations: readonly Migration[]): void {
  const apply = db.transaction((m: Migration) => {
    // Checked inside the write lock: another process may have migrated in the meantime.
    if (m.version <= schemaVersion(db)) return;
    db.exec(m.sql);
    db.pragma(`user_version = ${m.version}`);
  });
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) apply.immediate(m);
}
