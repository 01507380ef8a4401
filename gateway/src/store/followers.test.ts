import type { LedgerEvent } from '../ledger/connector';
import { tempDbFile } from '../../testing/engine-fakes';
import { openStore } from '.';

const event = (block: bigint, logIndex: number): LedgerEvent => ({
  ledger: 'evm',
  stream: 'htlc:0xabc',
  kind: 'locked',
  ref: `0x${block}${logIndex}`,
  block,
  logIndex,
  txId: `0xtx${block}`,
  data: { amount: '100' },
});

describe('follower store', () => {
  const tmp = tempDbFile();
  afterAll(() => tmp.remove());

  it('advances the checkpoint with the events, ignores events already in the inbox, and survives a reopen', () => {
    let store = openStore(tmp.file, { party: 'BANK' });
    expect(store.followers.checkpoint('evm', 'htlc:0xabc')).toBeUndefined();
    expect(store.followers.ingest('evm', 'htlc:0xabc', 10n, [event(3n, 0), event(3n, 1)])).toBe(2);
    expect(store.followers.ingest('evm', 'htlc:0xabc', 12n, [event(3n, 1), event(12n, 0)])).toBe(1);
    store.close();
    store = openStore(tmp.file, { party: 'BANK' });
    expect(store.followers.checkpoint('evm', 'htlc:0xabc')).toBe(12n);
    const pending = store.followers.unhandled('evm', 'htlc:0xabc');
    expect(pending.map((e) => `${e.block}:${e.logIndex}`)).toEqual(['3:0', '3:1', '12:0']);
    store.followers.markHandled(pending[0]?.id ?? 0);
    expect(store.followers.unhandled('evm', 'htlc:0xabc')).toHaveLength(2);
    expect(store.followers.all('evm', 'htlc:0xabc')).toHaveLength(3);
    store.close();
  });
});
