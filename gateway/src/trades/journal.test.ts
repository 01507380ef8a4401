import { openStore } from '../store';
import { FakeLedger, tempDbFile } from '../../testing/engine-fakes';
import { LedgerError } from '../ledger/errors';
import { performAction } from './journal';
import { decodeSpec, encodeSpec } from '../settlement/actions';
import { type ActionSpec } from '../settlement/actions';

describe('journaled action specs', () => {
  const specs: ActionSpec[] = [
    {
      kind: 'lock',
      request: {
        receiver: '0xr',
        asset: '0xt',
        amount: 12_345_678_901_234_567_890n,
        hashlock: 'ab'.repeat(32),
        expiry: 1_900_000_000,
      },
    },
    {
      kind: 'lock',
      request: { lockId: 'L-1', receiver: 'x509::CN=b', asset: 'US0378331005', amount: 5n, hashlock: 'cd', expiry: 1 },
    },
    { kind: 'claim', lockId: '0x01', preimage: '0x02' },
    { kind: 'refund', lockId: '0x01' },
    {
      kind: 'deposit',
      request: {
        tradeId: 'T',
        asset: '0xt',
        amount: 9n,
        beneficiary: '0xb',
        controller: '0xc',
        expiry: 2,
        notary: '0xn',
      },
    },
    { kind: 'release', escrowId: 'E', amount: 3n, approval: '0xsig' },
    { kind: 'release', escrowId: 'E', amount: 3n },
    { kind: 'return', escrowId: 'E' },
  ];

  it.each(specs.map((s) => [s.kind, s] as const))(
    'round-trips a %s through the journal params (amounts as decimal strings)',
    (_kind, spec) => {
      const params = encodeSpec(spec);
      expect(Object.values(params).every((v) => typeof v === 'string')).toBe(true);
      expect(decodeSpec(spec.kind, JSON.parse(JSON.stringify(params)) as Record<string, string>)).toEqual(spec);
    },
  );

  it('refuses params that lack a field', () => {
    expect(() => decodeSpec('claim', { lockId: '0x01' })).toThrow('journal params lack preimage');
  });
});

describe('performAction', () => {
  const tmp = tempDbFile();
  afterAll(() => tmp.remove());

  it('records a final ledger error as failed and rethrows it with the trade id, the original as cause', async () => {
    const store = openStore(tmp.file, { party: 'B' });
    const spec: ActionSpec = { kind: 'claim', lockId: 'nope', preimage: '00'.repeat(32) };
    const err: unknown = await performAction(
      store.journal,
      new FakeLedger(),
      { tradeId: 'T-7', leg: 'cash' },
      spec,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerError);
    expect(err).toMatchObject({
      code: 'NOT_FOUND',
      ledger: 'evm',
      context: { lockId: 'nope', tradeId: 'T-7', actionId: '1' },
    });
    expect((err as LedgerError).cause).toBeInstanceOf(LedgerError);
    expect(store.journal.forTrade('T-7')).toEqual([
      expect.objectContaining({ state: 'failed', error: 'NOT_FOUND: no such lock' }),
    ]);
    expect(store.journal.unfinished()).toEqual([]);
    store.close();
  });

  it('resumes an action a transient error left prepared instead of recording a second one beside it', async () => {
    const store = openStore(tmp.file, { party: 'B' });
    const ledger = new FakeLedger();
    const spec: ActionSpec = {
      kind: 'lock',
      request: { receiver: '0xr', asset: '0xt', amount: 5n, hashlock: 'ab'.repeat(32), expiry: 1_900_000_000 },
    };
    ledger.crash = 'after-prepare'; // signed and journaled, never broadcast: not a final error
    await expect(performAction(store.journal, ledger, { tradeId: 'T-8', leg: 'cash' }, spec)).rejects.toThrow(
      'simulated crash before broadcast',
    );
    expect(store.journal.forTrade('T-8')).toEqual([expect.objectContaining({ state: 'prepared' })]);
    ledger.crash = 'none';
    const retried = await performAction(store.journal, ledger, { tradeId: 'T-8', leg: 'cash' }, spec);
    const actions = store.journal.forTrade('T-8');
    expect(actions).toEqual([expect.objectContaining({ id: retried.actionId, state: 'done' })]);
    expect(ledger.broadcasts).toHaveLength(1);
    store.close();
  });

  it('makes a fresh transaction when the ledger refuses the journaled one for good, and a transient refusal waits', async () => {
    const store = openStore(tmp.file, { party: 'B' });
    const ledger = new FakeLedger();
    const spec: ActionSpec = {
      kind: 'lock',
      request: { receiver: '0xr', asset: '0xt', amount: 6n, hashlock: 'cd'.repeat(32), expiry: 1_900_000_000 },
    };
    ledger.crash = 'after-prepare';
    await expect(performAction(store.journal, ledger, { tradeId: 'T-9', leg: 'cash' }, spec)).rejects.toThrow();
    ledger.crash = 'none';
    const refuse = (code: 'UNAVAILABLE' | 'NOT_AUTHORIZED') =>
      jest.spyOn(ledger, 'resolvePrepared').mockRejectedValueOnce(new LedgerError(code, 'evm', 'stale signed bytes'));
    refuse('UNAVAILABLE');
    await expect(performAction(store.journal, ledger, { tradeId: 'T-9', leg: 'cash' }, spec)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(store.journal.forTrade('T-9')).toEqual([expect.objectContaining({ state: 'prepared' })]);
    refuse('NOT_AUTHORIZED');
    const done = await performAction(store.journal, ledger, { tradeId: 'T-9', leg: 'cash' }, spec);
    expect(store.journal.forTrade('T-9')).toEqual([expect.objectContaining({ id: done.actionId, state: 'done' })]);
    expect(ledger.broadcasts).toHaveLength(1);
    store.close();
  });

  it('passes its crash points in order: journaled (prepared, not broadcast), confirmed (not done yet), recorded', async () => {
    const store = openStore(tmp.file, { party: 'B' });
    const ledger = new FakeLedger();
    const seen: string[] = [];
    const crash = (point: string, tradeId: string): void => {
      const [action] = store.journal.forTrade(tradeId);
      seen.push(`${point} ${action?.state} ${ledger.broadcasts.length}`);
    };
    const spec: ActionSpec = {
      kind: 'lock',
      request: { receiver: '0xr', asset: '0xt', amount: 7n, hashlock: 'ef'.repeat(32), expiry: 1_900_000_000 },
    };
    await performAction(store.journal, ledger, { tradeId: 'T-10', leg: 'securities' }, spec, crash);
    expect(seen).toEqual([
      'securities.lock:journaled prepared 0',
      'securities.lock:confirmed prepared 1',
      'securities.lock:recorded done 1',
    ]);
    store.close();
  });
});
