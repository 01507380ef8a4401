import { auditHash, GENESIS_HASH } from './audit';
import { openStore, type GatewayStore } from '.';
import { tempDbFile } from '../../testing/engine-fakes';

describe('audit log', () => {
  const tmp = tempDbFile();
  let clock = Date.parse('2026-01-01T00:00:00Z');
  let store: GatewayStore;

  beforeAll(() => {
    store = openStore(tmp.file, { now: () => new Date((clock += 1000)), party: 'BANK' });
    for (let i = 1; i <= 6; i += 1) {
      store.audit.append({
        actor: `fp${i % 2}`,
        party: i % 2 ? 'BANK-A' : 'BANK-B',
        event: `e${i}`,
        tradeId: `T-${i % 3}`,
      });
    }
  });
  afterAll(() => {
    store.close();
    tmp.remove();
  });

  it('chains each entry to the previous hash, starting at the genesis hash', () => {
    const entries = store.audit.query({});
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i += 1) expect(entries[i]?.prevHash).toBe(entries[i - 1]?.hash);
    expect(store.audit.verify()).toEqual({ ok: true, checked: 6 });
  });

  it('filters by trade, party and time', () => {
    expect(store.audit.query({ tradeId: 'T-0' }).map((e) => e.seq)).toEqual([3, 6]);
    expect(store.audit.query({ party: 'BANK-B' }).map((e) => e.seq)).toEqual([2, 4, 6]);
    const third = store.audit.query({})[2]?.at ?? '';
    const fifth = store.audit.query({})[4]?.at ?? '';
    expect(store.audit.query({ from: third, to: fifth }).map((e) => e.seq)).toEqual([3, 4, 5]);
  });

  it('pinpoints a row changed directly in the database', () => {
    store.db.prepare(`UPDATE audit_log SET party = 'MALLORY' WHERE seq = 4`).run();
    expect(store.audit.verify()).toEqual({ ok: false, checked: 3, firstBadSeq: 4 });
    store.db.prepare(`UPDATE audit_log SET party = 'BANK-B' WHERE seq = 4`).run();
    expect(store.audit.verify().ok).toBe(true);
  });

  it('pinpoints a row whose hash was recomputed after tampering (the next link breaks)', () => {
    const row = store.audit.query({})[1];
    if (!row) throw new Error('no row');
    const forged = { ...row, event: 'forged' };
    store.db.prepare('UPDATE audit_log SET event = ?, hash = ? WHERE seq = 2').run('forged', auditHash(forged));
    expect(store.audit.verify()).toEqual({ ok: false, checked: 2, firstBadSeq: 3 });
    store.db.prepare('UPDATE audit_log SET event = ?, hash = ? WHERE seq = 2').run(row.event, row.hash);
  });

  it('pinpoints a deleted row', () => {
    const row = store.db.prepare('SELECT * FROM audit_log WHERE seq = 5').get() as Record<string, unknown>;
    store.db.prepare('DELETE FROM audit_log WHERE seq = 5').run();
    expect(store.audit.verify()).toEqual({ ok: false, checked: 4, firstBadSeq: 5 });
    store.db
      .prepare('INSERT INTO audit_log VALUES (@seq, @at, @actor, @party, @event, @trade_id, @prev_hash, @hash)')
      .run(row);
    expect(store.audit.verify().ok).toBe(true);
  });
});
