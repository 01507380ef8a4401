import { openStore, type GatewayStore } from '.';
import { createObserverLog, observerEntryHash, OBSERVER_GENESIS_HASH } from './observer';
import type { ObserverLog, ObserverLogRecord } from '../core/observer';
import { tempDbFile } from '../../testing/engine-fakes';

/** A record of `n`: from MANAGER (odd) or BUYER (even), of trade T-(n mod 3). */
function recordOf(n: number): ObserverLogRecord {
  return {
    fromParty: n % 2 ? 'MANAGER' : 'BUYER',
    tradeId: `T-${n % 3}`,
    step: 'registered',
    envelopeHash: String(n).padStart(64, '0'),
    envelope: JSON.stringify({ n }),
  };
}

describe('observer log', () => {
  const tmp = tempDbFile();
  let clock = Date.parse('2026-01-01T00:00:00Z');
  let store: GatewayStore;
  let log: ObserverLog;

  beforeAll(() => {
    store = openStore(tmp.file, { party: 'OBSERVER' });
    log = createObserverLog(store.db, () => new Date((clock += 1000)));
    for (let n = 1; n <= 6; n += 1) log.append(recordOf(n));
  });
  afterAll(() => {
    store.close();
    tmp.remove();
  });

  it('chains each entry to the previous hash, starting at the genesis hash', () => {
    const entries = log.query({});
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(entries[0]?.prevHash).toBe(OBSERVER_GENESIS_HASH);
    for (let i = 1; i < entries.length; i += 1) expect(entries[i]?.prevHash).toBe(entries[i - 1]?.hash);
    expect(entries[0]).toEqual({
      seq: 1,
      receivedAt: '2026-01-01T00:00:01.000Z',
      fromParty: 'MANAGER',
      tradeId: 'T-1',
      step: 'registered',
      envelopeHash: recordOf(1).envelopeHash,
      envelope: '{"n":1}',
      prevHash: OBSERVER_GENESIS_HASH,
      hash: observerEntryHash({
        seq: 1,
        receivedAt: '2026-01-01T00:00:01.000Z',
        fromParty: 'MANAGER',
        tradeId: 'T-1',
        envelopeHash: recordOf(1).envelopeHash,
        prevHash: OBSERVER_GENESIS_HASH,
      }),
    });
    expect(log.verify()).toEqual({ ok: true, checked: 6 });
  });

  it('filters by trade, sending party and time received', () => {
    expect(log.query({ tradeId: 'T-0' }).map((e) => e.seq)).toEqual([3, 6]);
    expect(log.query({ party: 'BUYER' }).map((e) => e.seq)).toEqual([2, 4, 6]);
    const third = log.query({})[2]?.receivedAt ?? '';
    const fifth = log.query({})[4]?.receivedAt ?? '';
    expect(log.query({ from: third, to: fifth }).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(log.query({ party: 'BUYER', from: third }).map((e) => e.seq)).toEqual([4, 6]);
  });

  it('keeps the time the caller gives', () => {
    const { entry } = log.append({ ...recordOf(7), receivedAt: '2026-02-01T00:00:00.000Z' });
    expect(entry.receivedAt).toBe('2026-02-01T00:00:00.000Z');
    expect(log.verify()).toEqual({ ok: true, checked: 7 });
  });

  it('appends the same message delivered again once, returning the first entry', () => {
    const first = log.query({})[1];
    const again = log.append({ ...recordOf(2), receivedAt: '2027-01-01T00:00:00.000Z' });
    expect(again).toEqual({ entry: first, added: false });
    expect(log.query({})).toHaveLength(7);
  });

  it('pinpoints a row changed directly in the database', () => {
    store.db.prepare(`UPDATE observer_log SET from_party = 'MALLORY' WHERE seq = 4`).run();
    expect(log.verify()).toEqual({ ok: false, checked: 3, firstBadSeq: 4 });
    store.db.prepare(`UPDATE observer_log SET from_party = 'BUYER' WHERE seq = 4`).run();
    expect(log.verify().ok).toBe(true);
  });

  it('pinpoints a row whose hash was recomputed after tampering (the next link breaks)', () => {
    const row = log.query({})[1];
    if (!row) throw new Error('no row');
    const forged = { ...row, tradeId: 'T-9' };
    store.db
      .prepare('UPDATE observer_log SET trade_id = ?, hash = ? WHERE seq = 2')
      .run('T-9', observerEntryHash(forged));
    expect(log.verify()).toEqual({ ok: false, checked: 2, firstBadSeq: 3 });
    store.db.prepare('UPDATE observer_log SET trade_id = ?, hash = ? WHERE seq = 2').run(row.tradeId, row.hash);
    expect(log.verify().ok).toBe(true);
  });

  it('pinpoints a deleted row', () => {
    const row = store.db.prepare('SELECT * FROM observer_log WHERE seq = 5').get() as Record<string, unknown>;
    store.db.prepare('DELETE FROM observer_log WHERE seq = 5').run();
    expect(log.verify()).toEqual({ ok: false, checked: 4, firstBadSeq: 5 });
    store.db
      .prepare(
        `INSERT INTO observer_log VALUES
         (@seq, @received_at, @from_party, @trade_id, @step, @envelope_hash, @envelope, @prev_hash, @hash)`,
      )
      .run(row);
    expect(log.verify().ok).toBe(true);
  });
});
