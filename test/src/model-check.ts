/**
 * Runs the spin models of the settlement modes (model/htlc.pml, model/escrow-orchestrated.pml)
 * in named configurations, each with what it must give: `safe` (every state explored, no assertion violated) or `violation` (spin finds a
 * run that breaks a property: the configuration shows a rule that matters). `make model-check`
 * runs every configuration (`tsx test/src/model-check.ts full`); `make test` runs the bounded ones
 * (model-check.test.ts). spin is looked for in SPIN, .tools/spin (make model-tools) and PATH; it
 * writes a C verifier that gcc compiles.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** The models, in model/ (`<name>.pml`). */
export type ModelName = 'htlc' | 'escrow-orchestrated';

export interface ModelConfig {
  readonly name: string;
  /** Default `htlc`. */
  readonly model?: ModelName;
  /** spin -D values over the model's defaults (each model's header lists them). */
  readonly defines: Readonly<Record<string, number>>;
  readonly expect: 'safe' | 'violation';
  /** Whose loss a violation must show: HTLC's honest leader or follower; the escrow's honest seller or buyer. */
  readonly loser?: 'leader' | 'follower' | 'seller' | 'buyer';
  /** gcc -DCOLLAPSE: slower, a fraction of the memory, for the large configurations. */
  readonly collapse?: boolean;
}

export interface ModelResult {
  readonly config: ModelConfig;
  readonly errors: number;
  readonly states: number;
  readonly seconds: number;
  /** The assertion spin found violated, if any. */
  readonly assertion?: string;
  /** The search was cut short (depth or memory) without a violation: nothing is proved. */
  readonly incomplete: boolean;
}

/** In `make test`: the gateway's rules at the smallest Δ they need, and two counterexamples. */
export const BOUNDED: readonly ModelConfig[] = [
  { name: 'gateway rules, Δ 6 (skew 1, inclusion 1, down 1, 1 crash each)', defines: { DELTA: 6 }, expect: 'safe' },
  {
    name: 'leader claims until the expiry itself (MARGIN 0)',
    defines: { DELTA: 6, MARGIN: 0 },
    expect: 'violation',
    loser: 'leader',
  },
  { name: 'Δ 5: too short for a follower down once', defines: { DELTA: 5 }, expect: 'violation', loser: 'follower' },
];

/** The orchestrated escrow without skew or inclusion latency (model/README.md says why). */
const ESCROW = { DELTA: 8, SKEW: 0, LAT: 0 } as const;

/** In `make test`: the escrow's rules, and the counterexamples of the rules they replaced. */
export const ESCROW_BOUNDED: readonly ModelConfig[] = [
  {
    name: 'escrow: gateway rules, Δ 8, margin Δ/2 (1 crash each, down 1)',
    model: 'escrow-orchestrated',
    defines: ESCROW,
    expect: 'safe',
  },
  {
    name: 'escrow: the decision carries the secret',
    model: 'escrow-orchestrated',
    defines: { ...ESCROW, SECRET_IN_DECISION: 1 },
    expect: 'violation',
    loser: 'seller',
  },
  {
    name: 'escrow: no reveal margin, the manager back late (down 4)',
    model: 'escrow-orchestrated',
    defines: { ...ESCROW, MDOWN: 4, MARGIN: 0 },
    expect: 'violation',
    loser: 'seller',
  },
];

/** `make model-check`: also a smaller margin, a larger skew and more crashes. */
export const FULL: readonly ModelConfig[] = [
  ...BOUNDED,
  ...ESCROW_BOUNDED,
  {
    name: 'escrow: gateway rules, Δ 10 (margin 5)',
    model: 'escrow-orchestrated',
    defines: { ...ESCROW, DELTA: 10 },
    expect: 'safe',
  },
  {
    name: 'escrow: gateway rules, the manager back late (down 4)',
    model: 'escrow-orchestrated',
    defines: { ...ESCROW, MDOWN: 4 },
    expect: 'safe',
  },
  {
    name: 'leader margin 1 < skew + inclusion',
    defines: { DELTA: 6, MARGIN: 1 },
    expect: 'violation',
    loser: 'leader',
  },
  { name: 'skew 2, Δ 6', defines: { DELTA: 6, SKEW: 2 }, expect: 'violation', collapse: true },
  { name: 'skew 2, Δ 7', defines: { DELTA: 7, SKEW: 2 }, expect: 'safe', collapse: true },
  {
    name: '2 crashes each, Δ 7: the follower down twice in its window',
    defines: { DELTA: 7, MAXCRASH: 2 },
    expect: 'violation',
    loser: 'follower',
    collapse: true,
  },
];

/** The spin binary, or undefined. */
export function findSpin(): string | undefined {
  const candidates = [process.env['SPIN'], join(ROOT, '.tools/spin/usr/bin/spin')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return execFileSync('sh', ['-c', 'command -v spin'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const number = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? NaN);

/** What pan printed, and the violated assertion's text when it found one (from its trail). */
function verify(spin: string, dir: string, file: string, config: ModelConfig): { out: string; assertion?: string } {
  const defines = Object.entries(config.defines).map(([k, v]) => `-D${k}=${v}`);
  const run = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  run(spin, [...defines, '-a', file]);
  run('gcc', ['-O2', '-DSAFETY', ...(config.collapse ? ['-DCOLLAPSE'] : []), '-o', 'pan', 'pan.c']);
  let out: string;
  try {
    out = run('./pan', ['-m200000']);
  } catch (err) {
    out = String((err as { stdout?: string }).stdout ?? err); // pan exits non-zero on some errors
  }
  if (!existsSync(join(dir, `${file}.trail`))) return { out };
  const assertion = /text of failed assertion: (.*)/.exec(run(spin, [...defines, '-t', file]))?.[1];
  return { out, ...(assertion !== undefined && { assertion }) };
}

/** Generates, compiles and runs the verifier for `config` in a scratch folder. */
export function checkModel(spin: string, config: ModelConfig): ModelResult {
  const dir = mkdtempSync(join(tmpdir(), 'dvp-spin-'));
  const file = `${config.model ?? 'htlc'}.pml`;
  try {
    copyFileSync(join(ROOT, 'model', file), join(dir, file));
    const { out, assertion } = verify(spin, dir, file, config);
    const errors = number(out, /errors: (\d+)/);
    return {
      config,
      errors,
      states: number(out, /([\d.e+]+) states, stored/),
      seconds: number(out, /elapsed time ([\d.]+) seconds/),
      ...(errors > 0 && assertion !== undefined && { assertion }),
      // A violation ends the search (pan says so); a safe result counts only if every state was seen.
      incomplete:
        Number.isNaN(errors) ||
        (errors === 0 && /max search depth too small|out of memory|Search not completed/.test(out)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The no-loss assertions name the honest party first: assert((!((honestL&&reliableL))||... in
 * htlc.pml, assert((!((honest[0]&&reliable[0]))||... (the seller) in escrow-orchestrated.pml.
 */
export function loserOf(assertion: string | undefined): ModelConfig['loser'] {
  if (assertion === undefined) return undefined;
  if (assertion.startsWith('assert((!((honestL')) return 'leader';
  if (assertion.startsWith('assert((!((honestB')) return 'follower';
  if (assertion.startsWith('assert((!((honest[0]')) return 'seller';
  if (assertion.startsWith('assert((!((honest[1]')) return 'buyer';
  return undefined;
}

function loserAsExpected(r: ModelResult): boolean {
  return r.config.loser === undefined || r.config.loser === loserOf(r.assertion);
}

/** What went other than expected, or undefined. */
export function unexpected(r: ModelResult): string | undefined {
  if (r.incomplete) return `${r.config.name}: the search did not complete`;
  const got = r.errors === 0 ? 'safe' : 'violation';
  if (got === r.config.expect && (got === 'safe' || loserAsExpected(r))) return undefined;
  const expected = r.config.loser ? `${r.config.expect} (the ${r.config.loser} loses)` : r.config.expect;
  return `${r.config.name}: expected ${expected}, spin found ${got}${r.assertion ? ` (${r.assertion})` : ''}`;
}

export const describeResult = (r: ModelResult): string =>
  `${r.config.name}: ${r.errors === 0 ? 'safe' : `violation: ${r.assertion ?? '?'}`} ` +
  `(${r.states.toExponential(2)} states, ${r.seconds.toFixed(1)} s)`;

function main(): void {
  const spin = findSpin();
  if (!spin) {
    console.error('model-check: spin not found (make model-tools installs it into .tools/spin, or set SPIN)');
    process.exit(2);
  }
  const configs = process.argv[2] === 'full' ? FULL : [...BOUNDED, ...ESCROW_BOUNDED];
  const wrong: string[] = [];
  for (const [i, config] of configs.entries()) {
    console.log(`model-check: [${i + 1}/${configs.length}] ${config.name} (expect ${config.expect}) ...`);
    const r = checkModel(spin, config);
    console.log(`model-check:   ${describeResult(r)}`);
    const problem = unexpected(r);
    if (problem) wrong.push(problem);
  }
  for (const w of wrong) console.error(`model-check: UNEXPECTED: ${w}`);
  console.log(`model-check: ${configs.length - wrong.length} of ${configs.length} configurations as expected`);
  process.exit(wrong.length === 0 ? 0 : 1);
}

if (require.main === module) main();
