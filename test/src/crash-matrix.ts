/**
 * The crash matrix: one trade per crash point of a settlement mode (gateway/src/core/crash-points.ts),
 * each killing the gateway of the party that passes the point, right there, then restarting it on
 * the same database. Every process traces the points it passes (`DVP_TEST_CRASH_TRACE`); a
 * trade run without a crash gives the matrix its entries (which party passes which point), and the
 * tests compare them with the mode's declared steps, so a step the declaration lacks fails them.
 *
 * Each process is started with the crash point of its own next entry (`DVP_TEST_CRASH_AT`, limited
 * to that entry's trade by `DVP_TEST_CRASH_TRADE`), so a crashed gateway is restarted once, armed
 * for its next entry, and no trade but the entry's can set it off.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from 'viem';
import { crashPointsOf, type ModeSteps } from '../../gateway/src/core/crash-points';
import { MATCHING_STEPS } from '../../gateway/src/trades/matching';
import type { NetworkState } from '../../network/src/state';
import { ledgerProblems } from './checker';
import { sleep, type GatewayProcess, type Party, type Pem, type Res } from './two-banks';

/** One cell of the matrix: the party whose gateway dies, and where. */
export interface MatrixEntry {
  readonly party: Party;
  readonly point: string;
}

/** How one entry went, for the test's own checks. */
export interface EntryRun extends MatrixEntry {
  readonly tradeId: string;
  /** Milliseconds from the trade's instruction to both banks' final status. */
  readonly ms: number;
}

/** Options of {@link CrashMatrix}. */
export interface CrashMatrixOptions {
  /** Every party's process, not started; the matrix starts, kills and restarts them. */
  readonly gw: Readonly<Partial<Record<Party, GatewayProcess>>>;
  /** Start order: each group starts together, after the one before (escrow: the agents first). */
  readonly startOrder: readonly (readonly Party[])[];
  /** Folder for the trace files. */
  readonly dir: string;
}

const CRASH_TIMEOUT_MS = 60_000;

/** The crash matrix over one mode's parties. */
export class CrashMatrix {
  readonly #o: CrashMatrixOptions;

  constructor(options: CrashMatrixOptions) {
    this.#o = options;
  }

  #gw(party: Party): GatewayProcess {
    const gw = this.#o.gw[party];
    if (!gw) throw new Error(`no gateway process for ${party}`);
    return gw;
  }

  traceFile(party: Party): string {
    return join(this.#o.dir, `crash-trace-${party}.jsonl`);
  }

  /** A process's environment: tracing always, a crash at `next` when given. */
  env(party: Party, next?: MatrixEntry & { readonly tradeId: string }): Record<string, string> {
    return {
      DVP_TEST_CRASH_TRACE: this.traceFile(party),
      ...(next && { DVP_TEST_CRASH_AT: next.point, DVP_TEST_CRASH_TRADE: next.tradeId }),
    };
  }

  /** Starts every process in {@link CrashMatrixOptions.startOrder}, each armed by `armed`. */
  async startAll(armed: (party: Party) => Record<string, string> = (p) => this.env(p)): Promise<void> {
    for (const group of this.#o.startOrder) await Promise.all(group.map((p) => this.#gw(p).start(armed(p))));
  }

  async killAll(): Promise<void> {
    await Promise.all(this.#o.startOrder.flat().map((p) => this.#gw(p).kill9()));
  }

  /** The distinct (party, point) pairs the trade `tradeId` passed, in the order first passed. */
  passed(tradeId: string): MatrixEntry[] {
    const seen = new Map<string, MatrixEntry>();
    for (const party of this.#o.startOrder.flat()) {
      const file = this.traceFile(party);
      if (!existsSync(file)) continue;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line === '') continue;
        const { point, tradeId: id } = JSON.parse(line) as { point: string; tradeId: string };
        if (id === tradeId) seen.set(`${party} ${point}`, { party, point });
      }
    }
    return [...seen.values()];
  }

  /**
   * Runs `entries` one after the other: trade `tradeIdOf(i)` is settled by `settle` (which must
   * ride out a gateway that dies under it), the entry's party must die at its point (SIGKILL)
   * within a minute, and is then restarted armed for its own next entry. Resolves with each
   * entry's run once `settle` resolved for it; `settle`'s own checks fail the entry.
   */
  async run(
    entries: readonly MatrixEntry[],
    tradeIdOf: (i: number) => string,
    settle: (tradeId: string, entry: MatrixEntry) => Promise<void>,
  ): Promise<EntryRun[]> {
    const armed = entries.map((e, i) => ({ ...e, tradeId: tradeIdOf(i) }));
    const nextOf = (party: Party, after: number) => armed.find((e, i) => i > after && e.party === party);
    await this.killAll();
    await this.startAll((p) => this.env(p, nextOf(p, -1)));
    const runs: EntryRun[] = [];
    for (const [i, entry] of armed.entries()) {
      const gw = this.#gw(entry.party);
      const died = gw.exited();
      const t0 = Date.now();
      const settled = settle(entry.tradeId, entry);
      settled.catch(() => undefined); // awaited below, after the restart
      const signal = await diesWithin(gw, died, CRASH_TIMEOUT_MS);
      if (signal !== 'SIGKILL') {
        throw new Error(
          `${entry.party} did not die at ${entry.point} (trade ${entry.tradeId}): ${signal}\n${gw.output.slice(-3000)}`,
        );
      }
      await gw.start(this.env(entry.party, nextOf(entry.party, i)));
      await settled;
      runs.push({ ...entry, ms: Date.now() - t0 });
    }
    return runs;
  }
}

/** The signal that ended `gw`'s process, or 'none' if it was still running after `ms`. */
async function diesWithin(gw: GatewayProcess, died: Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((r) => (timer = setTimeout(() => r('none'), ms)));
  try {
    return await Promise.race([died.then(() => gw.signalCode ?? 'exit'), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Entries whose `<party> <point>` matches `CRASH_MATRIX_ONLY` (a regular expression), for replaying
 * a failed cell; all of them without it.
 */
export function onlyRequested(entries: readonly MatrixEntry[], env = process.env): MatrixEntry[] {
  const only = env['CRASH_MATRIX_ONLY'];
  if (only === undefined || only === '') return [...entries];
  const re = new RegExp(only);
  return entries.filter((e) => re.test(`${e.party} ${e.point}`));
}

/**
 * POSTs an instruction until the gateway answers it, as an operator's client would when the
 * connection drops: the same idempotency key, so a retry never makes a second trade.
 */
export async function instructRetrying(
  gw: GatewayProcess,
  who: Pem,
  body: Readonly<Record<string, unknown>>,
  key: string,
  ms = CRASH_TIMEOUT_MS,
): Promise<Res> {
  for (const deadline = Date.now() + ms; ; await sleep(200)) {
    const res = await gw.call(who, 'POST', '/v1/trades', body, { 'idempotency-key': key }).catch(() => undefined);
    if (res && (res.status === 201 || res.status === 200)) return res;
    if (res) throw new Error(`instruction ${key} refused: ${res.status} ${JSON.stringify(res.json)}`);
    if (Date.now() > deadline) throw new Error(`instruction ${key}: no answer within ${ms} ms`);
  }
}

/** Options of {@link crashMatrixTests}. */
export interface CrashMatrixTestsOptions {
  readonly net: NetworkState;
  /** The mode and the trade's outcome in the tests' titles and the printed line. */
  readonly title: string;
  /** The points a trade without a crash must pass, exactly ({@link crashPointsOf} of the steps). */
  readonly expected: readonly string[];
  /** The cells to run, of those the clean trade passed; default all. */
  readonly cells?: (entry: MatrixEntry) => boolean;
  /** Trade ids are `<prefix>-<i>-<run>`, the clean one `<prefix>-CLEAN-<run>`. */
  readonly prefix: string;
  /** Fewer cells than this fails the test (the trace lost points). */
  readonly minCells: number;
  /** Set up in the caller's `beforeAll`. */
  readonly matrix: () => CrashMatrix;
  readonly isin: () => string;
  /** Runs one trade to its end and checks it (statuses on both sides, exact movements). */
  readonly trade: (tradeId: string, entry?: MatrixEntry) => Promise<void>;
}

/** What matching and `steps` declare for a trade that settles. */
export const settlingPoints = (steps: ModeSteps): string[] => [
  ...crashPointsOf(MATCHING_STEPS, true),
  ...crashPointsOf(steps, true),
];

/**
 * The matrix's three tests: a trade without a crash passes exactly the expected points; one trade
 * per cell ends as it should after its party dies there; the checker finds nothing at the end.
 */
export function crashMatrixTests(o: CrashMatrixTestsOptions): void {
  const run = `${process.pid}-${Date.now()}`;
  let entries: MatrixEntry[] = [];

  it(`${o.title}: a trade without a crash passes exactly the points matching and the mode declare`, async () => {
    const id = `${o.prefix}-CLEAN-${run}`;
    await o.trade(id);
    entries = o.matrix().passed(id);
    expect([...new Set(entries.map((e) => e.point))].sort()).toEqual([...o.expected].sort());
  });

  it(`${o.title}: the same after a gateway is killed -9 at each point it passes, and restarted`, async () => {
    const all = entries.filter(o.cells ?? (() => true));
    expect(all.length).toBeGreaterThanOrEqual(o.minCells);
    const cells = onlyRequested(all);
    const runs = await o.matrix().run(cells, (i) => `${o.prefix}-${i}-${run}`, o.trade);
    expect(runs.map((r) => `${r.party} ${r.point}`)).toEqual(cells.map((e) => `${e.party} ${e.point}`));
    const slowest = [...runs].sort((a, b) => b.ms - a.ms)[0];
    const where = `${slowest?.party} ${slowest?.point} ${slowest?.ms} ms`;
    process.stdout.write(`crash matrix, ${o.title}: ${runs.length} cells; slowest ${where}\n`);
  });

  it(`${o.title}: leaves both ledgers consistent, as the independent checker reads them`, async () => {
    const cashToken = o.net.evm.contracts['CashToken'] as Address;
    expect(await ledgerProblems(o.net, { isins: [o.isin()], cashToken })).toEqual([]);
  });
}
