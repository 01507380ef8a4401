/**
 * The test-only crash points of a gateway process (core/crash-points.ts), from its environment:
 * - `DVP_TEST_CRASH_AT=<point>`: the process kills itself with SIGKILL (no cleanup, no flush) the
 *   first time it reaches that point, after one line on stderr naming it; with
 *   `DVP_TEST_CRASH_TRADE=<trade id>`, only when it reaches it for that trade;
 * - `DVP_TEST_CRASH_TRACE=<file>`: every point reached is appended to the file as a JSON line
 *   `{"point", "tradeId"}` (written synchronously, so a line is there before the next step).
 * Both are refused unless `NODE_ENV=test` (Jest sets it): a production gateway never has them.
 */
import { appendFileSync } from 'node:fs';
import { noCrashPoint, type CrashPoint } from '../core/crash-points';
import { ConfigError } from './config';

export const CRASH_AT_ENV = 'DVP_TEST_CRASH_AT';
export const CRASH_TRADE_ENV = 'DVP_TEST_CRASH_TRADE';
export const CRASH_TRACE_ENV = 'DVP_TEST_CRASH_TRACE';

/** How the process dies and reports it; the defaults are the real ones. */
export interface CrashEffects {
  readonly kill: () => void;
  readonly report: (line: string) => void;
}

const REAL: CrashEffects = {
  kill: () => process.kill(process.pid, 'SIGKILL'),
  report: (line) => process.stderr.write(`${line}\n`),
};

/** The crash points `env` asks for; {@link noCrashPoint} when it asks for none. */
export function crashPointFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  effects: CrashEffects = REAL,
): CrashPoint {
  const at = env[CRASH_AT_ENV] || undefined;
  const trade = env[CRASH_TRADE_ENV] || undefined;
  const trace = env[CRASH_TRACE_ENV] || undefined;
  if (at === undefined && trace === undefined) return noCrashPoint;
  if (env['NODE_ENV'] !== 'test') {
    throw new ConfigError([`${CRASH_AT_ENV} and ${CRASH_TRACE_ENV} are for tests only (NODE_ENV=test)`]);
  }
  let crashed = false;
  return (point, tradeId) => {
    if (trace !== undefined) appendFileSync(trace, `${JSON.stringify({ point, tradeId })}\n`);
    if (crashed || point !== at || (trade !== undefined && tradeId !== trade)) return;
    crashed = true;
    effects.report(JSON.stringify({ level: 'warn', msg: 'crash point reached: SIGKILL', point, tradeId }));
    effects.kill();
  };
}
