/**
 * Starts one fabric-ca-server per org, detached (it outlives the caller), and stops processes by
 * PID. Restart/idempotency is the orchestrator's job: this module starts what it is told to start.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ensureTlsCertificate, renderCaConfig, type CaConfigInput } from './ca-config';
import { connectCa } from './ca-client';
import { CertsError } from './errors';
import { httpsTransport } from './transport';

/** Where `network/scripts/fabric-bin.sh ca` puts the binary. */
export const DEFAULT_CA_SERVER_BINARY = resolve(__dirname, '..', '..', '.bin', 'fabric-ca-server');

export interface CaServerOptions {
  /** Server home (CA key, database, config). Created if missing. */
  readonly homeDir: string;
  /** CA name (`caname` in requests), e.g. `ca-seller`. */
  readonly caName: string;
  /** Org key; the root affiliation and the registrar's affiliation (e.g. `seller`). */
  readonly org: string;
  /** HTTPS port on 127.0.0.1. */
  readonly port: number;
  /** Operations/health listener port on 127.0.0.1; default: an ephemeral port (effectively unused). */
  readonly operationsPort?: number;
  /** Bootstrap registrar, created when the CA database is first initialised. */
  readonly registrar: { readonly id: string; readonly secret: string };
  /** Sub-affiliations under the org; default `['operations', 'trading', 'gateway']`. */
  readonly affiliations?: readonly string[];
  /** Subject of the CA certificate; default `CN=<caName>, O=<org>, C=CH`. */
  readonly subject?: { readonly commonName?: string; readonly organization?: string; readonly country?: string };
  /** stdout and stderr of the server are appended here. */
  readonly logFile: string;
  /** Default {@link DEFAULT_CA_SERVER_BINARY}. */
  readonly binary?: string;
  /** How long to wait for `/cainfo` to answer; default 30 s. */
  readonly startTimeoutMs?: number;
}

export interface CaServerHandle {
  readonly pid: number;
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** The server's self-signed TLS certificate: the file clients trust. */
  readonly tlsCertFile: string;
  /** The CA's signing certificate (root of every enrollment certificate). */
  readonly caCertFile: string;
}

/**
 * Writes the config, starts `fabric-ca-server start` detached and resolves once `GET /cainfo`
 * answers over TLS. On failure the process is stopped and the error carries the log's tail.
 */
export async function startCaServer(opts: Readonly<CaServerOptions>): Promise<CaServerHandle> {
  validateOptions(opts);
  const binary = requireBinary(opts.binary ?? DEFAULT_CA_SERVER_BINARY);
  const home = resolve(opts.homeDir);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  mkdirSync(dirname(resolve(opts.logFile)), { recursive: true });
  const tls = await ensureTlsCertificate(join(home, 'tls'), `${opts.caName}-tls`);
  const configFile = join(home, 'fabric-ca-server-config.yaml');
  // The file holds the bootstrap secret: owner-only.
  writeFileSync(configFile, renderCaConfig(caConfigInput(opts, tls)), { mode: 0o600 });

  const { pid, exited } = spawnDetached(binary, ['start', '--home', home, '--config', configFile], home, opts.logFile);
  const handle: CaServerHandle = {
    pid,
    url: `https://127.0.0.1:${opts.port}`,
    tlsCertFile: tls.certFile,
    caCertFile: join(home, 'ca-cert.pem'),
  };
  await awaitStartUp(handle, opts, exited);
  return handle;
}

function requireBinary(binary: string): string {
  if (!existsSync(binary)) {
    throw new CertsError('ca_server_start', `${binary} not found; build it with network/scripts/fabric-bin.sh ca`);
  }
  return binary;
}

/** The options with their defaults filled in, as the config file needs them. */
function caConfigInput(
  opts: Readonly<CaServerOptions>,
  tls: { readonly certFile: string; readonly keyFile: string },
): CaConfigInput {
  return {
    caName: opts.caName,
    port: opts.port,
    operationsAddress: `127.0.0.1:${opts.operationsPort ?? 0}`,
    org: opts.org,
    affiliations: opts.affiliations ?? ['operations', 'trading', 'gateway'],
    registrar: opts.registrar,
    csr: caSubject(opts),
    tlsCertFile: tls.certFile,
    tlsKeyFile: tls.keyFile,
    crlExpiry: '24h',
    certExpiry: '8760h',
  };
}

/** Default subject: `CN=<caName>, O=<org>, C=CH`. */
function caSubject(opts: Readonly<CaServerOptions>): CaConfigInput['csr'] {
  const subject = opts.subject ?? {};
  return {
    commonName: subject.commonName ?? opts.caName,
    organization: subject.organization ?? opts.org,
    country: subject.country ?? 'CH',
  };
}

/**
 * Resolves once the server is healthy; if it dies or times out first, stops it and throws with the
 * log's tail.
 */
async function awaitStartUp(
  handle: CaServerHandle,
  opts: Readonly<CaServerOptions>,
  exited: Promise<never>,
): Promise<void> {
  // Cleared once start-up is decided, so a losing health loop stops probing.
  const probing = { active: true };
  try {
    await Promise.race([waitHealthy(handle, opts.caName, opts.startTimeoutMs ?? 30_000, probing), exited]);
  } catch (err) {
    await stopProcess(handle.pid);
    const reason = err instanceof Error ? err.message : String(err);
    throw new CertsError(
      'ca_server_start',
      `fabric-ca-server ${opts.caName} on port ${opts.port}: ${reason}\n--- last lines of ${opts.logFile} ---\n${logTail(opts.logFile)}`,
      { cause: err },
    );
  } finally {
    probing.active = false;
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const isPort = (p: number): boolean => Number.isInteger(p) && p > 0 && p < 65536;

/**
 * The checks of {@link validateOptions}, in the order they are reported: each returns what is
 * invalid (the words after "invalid"), or undefined.
 */
const OPTION_CHECKS: readonly ((opts: Readonly<CaServerOptions>) => string | undefined)[] = [
  (o) => (isPort(o.port) ? undefined : `port ${o.port}`),
  (o) =>
    o.operationsPort === undefined || (isPort(o.operationsPort) && o.operationsPort !== o.port)
      ? undefined
      : `operationsPort ${o.operationsPort}`,
  badName,
  (o) => (o.registrar.id && o.registrar.secret ? undefined : 'registrar (id and secret are required)'),
];

/** The first of caName, org and the affiliations that is no plain name. */
function badName(opts: Readonly<CaServerOptions>): string | undefined {
  // Affiliations are dotted paths in Fabric CA: a dot inside one name would nest it.
  const named: (readonly [string, string | undefined])[] = [
    ['caName', opts.caName],
    ['org', opts.org],
    ...(opts.affiliations ?? []).map((a) => ['affiliation', a] as const),
  ];
  const bad = named.find(([, value]) => !NAME.test(value ?? ''));
  return bad === undefined ? undefined : `${bad[0]} '${bad[1]}' (letters, digits, '-', '_')`;
}

function validateOptions(opts: Readonly<CaServerOptions>): void {
  for (const check of OPTION_CHECKS) {
    const what = check(opts);
    if (what !== undefined) throw new CertsError('invalid_input', `startCaServer: invalid ${what}`);
  }
}

/** Spawns detached; `exited` rejects if the process ends (used only while waiting for health). */
function spawnDetached(
  binary: string,
  args: string[],
  cwd: string,
  logFile: string,
): { pid: number; exited: Promise<never> } {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(binary, args, { cwd, detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new CertsError('ca_server_start', `could not spawn ${binary}`);
    child.unref();
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`process ${child.pid} exited during start-up (${signal ?? `code ${code}`})`)),
      ),
    );
    exited.catch(() => undefined); // a late exit (after start-up, e.g. stopProcess) is not an error here
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

/** Polls `/cainfo` over TLS (trusting only our TLS cert) until it answers, the process dies, or time runs out. */
async function waitHealthy(
  handle: CaServerHandle,
  caName: string,
  timeoutMs: number,
  probing: { readonly active: boolean },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let interval = 50;
  while (Date.now() < deadline && probing.active) {
    if (!isAlive(handle.pid)) throw new Error(`process ${handle.pid} exited during start-up`);
    if (existsSync(handle.caCertFile)) {
      try {
        const probeMs = Math.max(100, Math.min(2_000, deadline - Date.now()));
        const transport = httpsTransport(readFileSync(handle.tlsCertFile, 'utf8'), probeMs);
        const client = connectCa({ url: handle.url, tlsTrustedCert: '', caName, transport });
        await client.cainfo();
        return;
      } catch (err) {
        lastError = err;
      }
    }
    await delay(interval);
    interval = Math.min(interval * 2, 500);
  }
  const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
  throw new Error(`not healthy after ${timeoutMs} ms${why}`);
}

/** True if a process with this PID exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Stops one process by PID: SIGTERM, then SIGKILL if it is still alive after `graceMs` (default 5 s).
 * Resolves `true` once it is gone, `false` if it was not running. Never signals a process group.
 */
export async function stopProcess(pid: number, graceMs = 5_000): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 1) throw new CertsError('invalid_input', `refusing to signal PID ${pid}`);
  if (!isAlive(pid) || !signal(pid, 'SIGTERM')) return false;
  await waitGone(pid, graceMs);
  // If SIGKILL fails, the process is gone already.
  if (isAlive(pid) && signal(pid, 'SIGKILL')) await waitGone(pid, 5_000);
  return true;
}

/** Sends `sig` to `pid`; false if the process could not be signalled (e.g. it is gone). */
function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `pid` is gone or `ms` have passed. */
async function waitGone(pid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (isAlive(pid) && Date.now() < deadline) await delay(25);
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
