/**
 * `make soak`: sustained settlement on the local ledgers for a set time, HTLC and orchestrated
 * escrow trades alternating, a few in flight at all times, on the five parties' gateway processes
 * (escrow-parties.ts; the banks' gateways settle both modes). It samples every gateway's resident
 * memory and CPU, and reports at the end:
 * - trades settled, failed and stuck (not final within SOAK_STUCK_SECONDS of their instruction);
 * - matched-to-final latency per mode (p50, p95);
 * - memory over time per gateway, its V8 heap in use (from its /metrics) and its resident set
 *   (from /proc): the mean of the last third of the samples against the mean of the first third
 *   (the first fifth left out as warm-up), and the slope in MB per hour; "flat" when it grew by
 *   less than 20 % or 16 MB. The verdict is the heap's: what the process keeps, where a leak
 *   shows; the resident set also holds what V8 and the allocator have not handed back;
 * - the independent checker's verdict on both ledgers for the run's instrument.
 * It exits 1 unless nothing is stuck or failed, every gateway's heap is flat and the checker
 * finds nothing. The figures go to `.soak/result.json` and `.soak/memory.csv`.
 *
 * Environment: SOAK_MINUTES (default 30), SOAK_IN_FLIGHT (4), SOAK_SAMPLE_SECONDS (15),
 * SOAK_STUCK_SECONDS (180). Run alone: it uses the banks' ledger accounts (it waits for a test
 * holding them).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address } from 'viem';
import { ledgerProblems } from './checker';
import {
  ESCROW_PARTIES,
  FINAL_STATUSES,
  instructionOf,
  startEscrowParties,
  type EscrowParties,
} from './escrow-parties';
import { lockBankCash, sharedNetwork } from './network';
import { securitiesLeg, testIsin } from './securities-leg';
import { addressOf, BANKS, issue, partyPem, sleep, type Bank, type Party } from './two-banks';

const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, '.soak');

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!(v > 0)) throw new Error(`${name} must be a positive number, not ${raw}`);
  return v;
}

const MINUTES = positive('SOAK_MINUTES', 30);
const IN_FLIGHT = Math.floor(positive('SOAK_IN_FLIGHT', 4));
const SAMPLE_MS = positive('SOAK_SAMPLE_SECONDS', 15) * 1000;
const STUCK_MS = positive('SOAK_STUCK_SECONDS', 180) * 1000;
const QTY = 1n;
const PRICE = 100n;
const MODES = ['htlc', 'escrow_orchestrated'] as const;
type Mode = (typeof MODES)[number];

const say = (line: string): void => void process.stdout.write(`${line}\n`);

type Traders = Readonly<Record<Bank, ReturnType<typeof partyPem>>>;

interface TradeResult {
  readonly mode: Mode;
  readonly status: string;
  readonly ms: number;
}

interface Sample {
  readonly atSeconds: number;
  readonly rssMb: Readonly<Record<string, number>>;
  /** V8 heap in use (`nodejs_heap_size_used_bytes` of the gateway's /metrics). */
  readonly heapMb: Readonly<Record<string, number>>;
  readonly cpuPercent: Readonly<Record<string, number>>;
}

/** Resident memory (MB) and CPU ticks of a process, from /proc. */
function procFigures(pid: number | undefined): { rssMb: number; ticks: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssMb: rssKb / 1024, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** The gateway's V8 heap in use (MB), from its /metrics (a bank's auditor, an agent's operator). */
async function heapUsedMb(p: EscrowParties, party: Party): Promise<number | undefined> {
  const who = party === 'seller' || party === 'buyer' ? partyPem(p.net, party, 'auditor') : p.operator(party);
  const res = await p.gw[party].raw(who, 'GET', '/metrics').catch(() => undefined);
  const bytes = res?.status === 200 ? /^nodejs_heap_size_used_bytes (\S+)$/m.exec(res.text)?.[1] : undefined;
  return bytes === undefined ? undefined : Math.round(Number(bytes) / 104_857.6) / 10;
}

/** Samples every party's gateway every {@link SAMPLE_MS} until `stop` resolves. */
async function sample(p: EscrowParties, t0: number, samples: Sample[], stop: Promise<void>): Promise<void> {
  const ticksPerSecond = 100;
  let last = new Map<Party, { ticks: number; at: number }>();
  let stopped = false;
  void stop.then(() => (stopped = true));
  while (!stopped) {
    const rssMb: Record<string, number> = {};
    const heapMb: Record<string, number> = {};
    const cpuPercent: Record<string, number> = {};
    const now = new Map<Party, { ticks: number; at: number }>();
    for (const party of ESCROW_PARTIES) {
      const f = procFigures(p.gw[party].pid);
      if (!f) continue;
      rssMb[party] = Math.round(f.rssMb * 10) / 10;
      const heap = await heapUsedMb(p, party);
      if (heap !== undefined) heapMb[party] = heap;
      const before = last.get(party);
      now.set(party, { ticks: f.ticks, at: Date.now() });
      if (before) {
        const seconds = (Date.now() - before.at) / 1000;
        cpuPercent[party] = Math.round(((f.ticks - before.ticks) / ticksPerSecond / seconds) * 1000) / 10;
      }
    }
    last = now;
    samples.push({ atSeconds: Math.round((Date.now() - t0) / 1000), rssMb, heapMb, cpuPercent });
    await Promise.race([sleep(SAMPLE_MS), stop]);
  }
}

/** Both banks instruct the trade (an HTLC one names no escrow parties). */
async function instructBoth(p: EscrowParties, trader: Traders, id: string, mode: Mode, isin: string): Promise<void> {
  const deadline = Math.floor(Date.now() / 1000) + 600;
  const terms = { tradeId: id, isin, quantity: QTY, price: PRICE, settlementDeadline: deadline };
  for (const bank of BANKS) {
    const { escrow, ...common } = instructionOf(bank, terms);
    const body = mode === 'htlc' ? { ...common, mode } : { ...common, escrow };
    const res = await p.gw[bank].call(trader[bank], 'POST', '/v1/trades', body, { 'idempotency-key': `${id}-${bank}` });
    if (res.status !== 201) throw new Error(`${bank} refused ${id}: ${res.status} ${JSON.stringify(res.json)}`);
  }
}

/** One trade through both banks: instructed, then polled until final or stuck. */
async function oneTrade(p: EscrowParties, trader: Traders, id: string, mode: Mode, isin: string): Promise<TradeResult> {
  const t0 = Date.now();
  await instructBoth(p, trader, id, mode, isin);
  const ends: Record<Bank, string | undefined> = { seller: undefined, buyer: undefined };
  const final = (b: Bank): boolean => FINAL_STATUSES.includes(ends[b] ?? '');
  while (!BANKS.every(final) && Date.now() - t0 < STUCK_MS) {
    await sleep(100);
    for (const b of BANKS) if (!final(b)) ends[b] = (await p.trade(b, id).catch(() => undefined))?.status;
  }
  const agreed = ends.seller === ends.buyer ? (ends.seller ?? 'stuck') : 'disagree';
  return { mode, status: BANKS.every(final) ? agreed : 'stuck', ms: Date.now() - t0 };
}

const percentile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/** Memory verdict of one gateway over the samples (see the file comment). */
function memoryVerdict(series: readonly { t: number; mb: number }[]) {
  const kept = series.slice(Math.floor(series.length / 5));
  const third = Math.max(1, Math.floor(kept.length / 3));
  const mean = (xs: readonly { mb: number }[]): number => xs.reduce((a, x) => a + x.mb, 0) / Math.max(1, xs.length);
  const first = mean(kept.slice(0, third));
  const lastThird = mean(kept.slice(-third));
  const n = kept.length;
  const mt = kept.reduce((a, x) => a + x.t, 0) / Math.max(1, n);
  const mm = mean(kept);
  const cov = kept.reduce((a, x) => a + (x.t - mt) * (x.mb - mm), 0);
  const varT = kept.reduce((a, x) => a + (x.t - mt) ** 2, 0);
  const slopeMbPerHour = varT === 0 ? 0 : (cov / varT) * 3600;
  const growth = lastThird - first;
  // No samples is no evidence: not flat.
  const flat = series.length > 0 && (growth < 16 || growth / first < 0.2);
  return {
    firstMb: Math.round(first),
    lastMb: Math.round(lastThird),
    maxMb: Math.round(Math.max(...series.map((x) => x.mb))),
    slopeMbPerHour: Math.round(slopeMbPerHour * 10) / 10,
    flat,
  };
}

/** Runs {@link IN_FLIGHT} workers, each settling one trade after another until the time is up. */
async function settleUntil(p: EscrowParties, isin: string, endAt: number, results: TradeResult[]): Promise<void> {
  const trader = { seller: partyPem(p.net, 'seller', 'trader'), buyer: partyPem(p.net, 'buyer', 'trader') };
  let next = 0;
  const run = `${process.pid}-${Date.now()}`;
  const worker = async (): Promise<void> => {
    while (Date.now() < endAt) {
      const i = next++;
      results.push(await oneTrade(p, trader, `SOAK-${i}-${run}`, MODES[i % MODES.length] as Mode, isin));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

function progress(t0: number, results: readonly TradeResult[], samples: readonly Sample[]): string {
  const count = (s: string): number => results.filter((r) => r.status === s).length;
  const rss = samples.at(-1)?.rssMb ?? {};
  const mem = Object.entries(rss)
    .map(([party, mb]) => `${party} ${Math.round(mb)}`)
    .join(', ');
  const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
  return `soak: ${minutes}/${MINUTES} min, ${results.length} trades (${count('settled')} settled, ${count('failed')} failed, ${count('stuck')} stuck); RSS MB ${mem}`;
}

/** The figures of the run, as printed and written to .soak/result.json. */
function summarize(results: readonly TradeResult[], samples: readonly Sample[], problems: readonly string[]) {
  const byMode = Object.fromEntries(
    MODES.map((mode) => {
      const mine = results.filter((r) => r.mode === mode);
      const settled = mine.filter((r) => r.status === 'settled').map((r) => r.ms);
      return [
        mode,
        {
          trades: mine.length,
          settled: settled.length,
          p50Ms: percentile(settled, 0.5),
          p95Ms: percentile(settled, 0.95),
        },
      ];
    }),
  );
  const series = (party: Party, of: 'rssMb' | 'heapMb') =>
    samples.flatMap((s) => (s[of][party] === undefined ? [] : [{ t: s.atSeconds, mb: s[of][party] }]));
  const memory = Object.fromEntries(
    ESCROW_PARTIES.map((party) => [
      party,
      { heap: memoryVerdict(series(party, 'heapMb')), rss: memoryVerdict(series(party, 'rssMb')) },
    ]),
  );
  const notSettled = results.filter((r) => r.status !== 'settled').map((r) => `${r.mode} ${r.status}`);
  const ok = notSettled.length === 0 && problems.length === 0 && Object.values(memory).every((m) => m.heap.flat);
  return {
    minutes: MINUTES,
    inFlight: IN_FLIGHT,
    trades: results.length,
    byMode,
    notSettled,
    memory,
    checker: problems,
    ok,
  };
}

function report(summary: ReturnType<typeof summarize>, samples: readonly Sample[]): void {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'result.json'), `${JSON.stringify({ at: new Date().toISOString(), ...summary }, null, 2)}\n`);
  const columns = ['rssMb', 'heapMb', 'cpuPercent'] as const;
  const header = ['seconds', ...columns.flatMap((c) => ESCROW_PARTIES.map((p) => `${p}_${c}`))];
  const rows = samples.map((s) =>
    [s.atSeconds, ...columns.flatMap((c) => ESCROW_PARTIES.map((p) => s[c][p] ?? ''))].join(','),
  );
  writeFileSync(join(OUT, 'memory.csv'), `${[header.join(','), ...rows].join('\n')}\n`);
  say(`\nsoak: ${summary.trades} trades in ${MINUTES} min, ${IN_FLIGHT} in flight`);
  for (const [mode, m] of Object.entries(summary.byMode)) {
    say(`  ${mode.padEnd(20)} ${m.settled}/${m.trades} settled, matched→final p50 ${m.p50Ms} ms, p95 ${m.p95Ms} ms`);
  }
  say(`  not settled: ${summary.notSettled.length === 0 ? 'none' : summary.notSettled.join(', ')}`);
  say('  memory (MB: first third → last third after warm-up, max, slope per hour; the verdict is the heap’s):');
  const line = (m: ReturnType<typeof memoryVerdict>): string =>
    `${m.firstMb} → ${m.lastMb}, max ${m.maxMb}, ${m.slopeMbPerHour} MB/h`;
  for (const [party, m] of Object.entries(summary.memory)) {
    say(`    ${party.padEnd(9)} heap ${line(m.heap)}  ${m.heap.flat ? 'flat' : 'GROWING'};  RSS ${line(m.rss)}`);
  }
  say(
    `  independent check: ${summary.checker.length === 0 ? 'both ledgers consistent, every trade at its end' : summary.checker.join('; ')}`,
  );
  say(`  figures: .soak/result.json, .soak/memory.csv`);
  say(summary.ok ? 'soak: OK' : 'soak: FAILED');
}

async function main(): Promise<void> {
  const net = sharedNetwork();
  const isin = testIsin(`SK${Date.now() % 10_000_000}`);
  const cash = net.evm.contracts['CashToken'] as Address;
  const unlock = await lockBankCash(net);
  const dir = mkdtempSync(join(tmpdir(), 'dvp-soak-'));
  const leg = await securitiesLeg(net, isin);
  let p: EscrowParties | undefined;
  try {
    await leg.issue('seller', 1_000_000n);
    await issue(net, cash, addressOf(net, 'buyer'), 1_000_000_000n);
    p = await startEscrowParties({ net, leg, dir, escrow: { deltaSeconds: 10, graceSeconds: 5, pollIntervalMs: 200 } });
    say(
      `soak: ${MINUTES} min, ${IN_FLIGHT} trades in flight, HTLC and orchestrated escrow alternating, instrument ${isin} on ${leg.ledger}`,
    );
    const t0 = Date.now();
    const results: TradeResult[] = [];
    const samples: Sample[] = [];
    let stopSampling: () => void = () => undefined;
    const stop = new Promise<void>((r) => (stopSampling = r));
    const sampling = sample(p, t0, samples, stop);
    const ticker = setInterval(() => say(progress(t0, results, samples)), 60_000);
    await settleUntil(p, isin, t0 + MINUTES * 60_000, results);
    clearInterval(ticker);
    stopSampling();
    await sampling;
    const summary = summarize(results, samples, await ledgerProblems(net, { isins: [isin], cashToken: cash }));
    report(summary, samples);
    process.exitCode = summary.ok ? 0 : 1;
  } finally {
    await p?.kill();
    leg.close();
    rmSync(dir, { recursive: true, force: true });
    unlock();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
