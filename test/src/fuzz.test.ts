/**
 * Fuzzing the operator API of a running gateway from its own description: schemathesis (installed
 * by `make fuzz-tools` into `.venv-fuzz/`) reads `GET /openapi.json` of the seller's gateway, a
 * process on the shared network, and sends generated requests, valid and invalid, as the bank's
 * operator and as its auditor. Bounded in examples per operation and in time; seeded (the seed is
 * printed) so a failure can be replayed. It fails on any 5xx, any answer the document does not
 * describe (status, content type, headers, body schema), any invalid request accepted, and any
 * method a path does not take answered otherwise than 405 — with schemathesis's report, which
 * names the reproducing request (a curl command).
 *
 * `DVP_FUZZ_EXAMPLES` (default 25), `DVP_FUZZ_MAX_SECONDS` (per role, default 75) and
 * `DVP_FUZZ_SEED` (default random) tune a run by hand. The stateful phase (chains of calls along
 * links) is left out: the document declares no links yet.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '@dvp/certs';
import { sharedNetwork } from './network';
import { GatewayProcess, partyPem, type Pem } from './two-banks';

const SCHEMATHESIS = resolve(__dirname, '../../.venv-fuzz/bin/schemathesis');
const EXAMPLES = Number(process.env['DVP_FUZZ_EXAMPLES'] ?? 25);
const MAX_SECONDS = Number(process.env['DVP_FUZZ_MAX_SECONDS'] ?? 75);
const SEED = Number(process.env['DVP_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

/**
 * What must hold for every generated request. Not `positive_data_acceptance`: a request valid by
 * the schema can still be refused by a rule the schema cannot express (an ISIN's check digit, a
 * counterparty in the directory, a trade that exists).
 */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
  'unsupported_method',
].join(',');

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** Runs schemathesis in `cwd` (it keeps a cache of examples there). */
function schemathesis(args: readonly string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(SCHEMATHESIS, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

describe('fuzzing the operator API from its OpenAPI document (schemathesis)', () => {
  const net = sharedNetwork();
  const dir = mkdtempSync(join(tmpdir(), 'dvp-fuzz-'));
  let gw: GatewayProcess | undefined;

  beforeAll(async () => {
    if (!existsSync(SCHEMATHESIS)) throw new Error(`${SCHEMATHESIS} not found: run "make fuzz-tools"`);
    gw = new GatewayProcess({ net, party: 'seller', dir: join(dir, 'seller'), port: await freePort() });
    await gw.start();
    const anchors = [...Object.values(net.fabricCa.orgs)].map((o) => readFileSync(o.caCertFile, 'utf8'));
    writeFileSync(join(dir, 'ca.pem'), anchors.join('\n'));
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const as = (who: string, pem: Pem): string[] => {
    writeFileSync(join(dir, `${who}.pem`), pem.cert);
    writeFileSync(join(dir, `${who}.key`), pem.key, { mode: 0o600 });
    return ['--request-cert', join(dir, `${who}.pem`), '--request-cert-key', join(dir, `${who}.key`)];
  };

  it.each([
    ['operator', 'admin'],
    ['auditor', 'auditor'],
  ])(
    '0 server errors and 0 answers outside the document, as the bank’s %s',
    async (who, wallet) => {
      const args = [
        'run',
        `${gw!.url}/openapi.json`,
        ...as(who, partyPem(net, 'seller', wallet)),
        '--tls-verify',
        join(dir, 'ca.pem'),
        '--checks',
        CHECKS,
        '--max-examples',
        String(EXAMPLES),
        '--seed',
        String(SEED),
        '--workers',
        '2',
        '--request-timeout',
        '15',
        '--phases',
        'coverage,fuzzing',
        '--max-time',
        String(MAX_SECONDS),
        '--suppress-health-check',
        'all',
        '--no-color',
      ];
      process.stdout.write(`fuzz: schemathesis as the ${who}, seed ${SEED}, ${EXAMPLES} examples per operation\n`);
      const run = await schemathesis(args, dir, 300_000);
      const cases = /Test cases:\s*\n?\s*(.+)/.exec(run.output)?.[1] ?? 'no summary';
      process.stdout.write(`fuzz: as the ${who}: ${cases}\n`);
      const summary = `schemathesis ${args.join(' ')}\n(seed ${SEED}; replay with DVP_FUZZ_SEED=${SEED})\n${run.output}`;
      expect([run.code, run.code === 0 ? 'passed' : summary]).toEqual([0, 'passed']);
    },
    320_000,
  );
});
