import { openDatabase, schemaVersion } from './db';
import { MIGRATIONS } from './migrations';
import { tempDbFile } from '../../testing/engine-fakes';

/** The latest schema version (versions may skip a number another branch keeps). */
const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));

describe('openDatabase', () => {
  const tmp = tempDbFile();
  afterAll(() => tmp.remove());

  it('uses WAL with synchronous FULL and foreign keys', () => {
    const db = openDatabase(tmp.file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });

  it('migrates to the latest version once and is a no-op on reopen', () => {
    const db = openDatabase(tmp.file);
    expect(schemaVersion(db)).toBe(LATEST);
    db.close();
    expect(() => openDatabase(tmp.file).close()).not.toThrow();
  });

  it('applies a later migration on top of an existing database', () => {
    const next = {
      version: LATEST + 1,
      description: 'test column',
      sql: 'ALTER TABLE trades ADD COLUMN note TEXT;',
    };
    const db = openDatabase(tmp.file, { migrations: [...MIGRATIONS, next] });
    expect(schemaVersion(db)).toBe(next.version);
    const columns = db
      .prepare<[], { name: string }>('PRAGMA table_info(trades)')
      .all()
      .map((c) => c.name);
    expect(columns).toContain('note');
    db.close();
  });
});
