import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noCrashPoint } from '../core/crash-points';
import { ConfigError } from './config';
import { crashPointFromEnv } from './crash-points';

describe('crash points from the environment (tests only)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvp-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is nowhere unless asked', () => {
    expect(crashPointFromEnv({ NODE_ENV: 'test' })).toBe(noCrashPoint);
    expect(crashPointFromEnv({ DVP_TEST_CRASH_AT: '' })).toBe(noCrashPoint);
  });

  it('refuses to crash a gateway that is not under test', () => {
    for (const env of [{ DVP_TEST_CRASH_AT: 'cash.lock:journaled' }, { DVP_TEST_CRASH_TRACE: join(dir, 't') }]) {
      expect(() => crashPointFromEnv({ ...env, NODE_ENV: 'production' })).toThrow(ConfigError);
      expect(() => crashPointFromEnv(env)).toThrow('are for tests only (NODE_ENV=test)');
    }
  });

  it('kills once, at the named point only, after saying so; traces every point reached', () => {
    const trace = join(dir, 'trace.jsonl');
    const kills: string[] = [];
    const crash = crashPointFromEnv(
      { NODE_ENV: 'test', DVP_TEST_CRASH_AT: 'send.preimage:queued', DVP_TEST_CRASH_TRACE: trace },
      { kill: () => kills.push('kill'), report: (line) => kills.push(line) },
    );
    crash('cash.lock:journaled', 'T-1');
    expect(kills).toEqual([]);
    crash('send.preimage:queued', 'T-1');
    crash('send.preimage:queued', 'T-2');
    expect(kills).toHaveLength(2);
    expect(JSON.parse(kills[0] as string)).toMatchObject({ point: 'send.preimage:queued', tradeId: 'T-1' });
    expect(kills[1]).toBe('kill');
    const lines = readFileSync(trace, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { point: 'cash.lock:journaled', tradeId: 'T-1' },
      { point: 'send.preimage:queued', tradeId: 'T-1' },
      { point: 'send.preimage:queued', tradeId: 'T-2' },
    ]);
  });

  it('with a trade named, kills only at that trade’s point', () => {
    const kills: string[] = [];
    const crash = crashPointFromEnv(
      { NODE_ENV: 'test', DVP_TEST_CRASH_AT: 'cash.claim:recorded', DVP_TEST_CRASH_TRADE: 'T-2' },
      { kill: () => kills.push('kill'), report: () => undefined },
    );
    crash('cash.claim:recorded', 'T-1');
    expect(kills).toEqual([]);
    crash('cash.claim:recorded', 'T-2');
    expect(kills).toEqual(['kill']);
  });
});
