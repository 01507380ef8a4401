/**
 * Starts one fabric-ca-server per org, detached (it outlives the caller), and stops processes by
 * PID. Restart/idempotency is the orchestrator's job: this module starts what it is told to start.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ensureTlsCertificate, renderCaConfig } from './ca-config';
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
  const binary = opts.binary ?? DEFAULT_CA_SERVER_BINARY;
  if (!existsSync(binary)) {
    throw new CertsError('ca_server_start', `${binary} not found; build it with network/scripts/fabric-bin.sh ca`);
  }
  const home = resolve(opts.homeDir);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  mkdirSync(dirname(resolve(opts.logFile)), { recursive: true });
  const tls = await ensureTlsCertificate(join(home, 'tls'), `${opts.caName}-tls`);
  const configFile = join(home, 'fabric-ca-server-config.yaml');
  const config = renderCaConfig({
    caName: opts.caName,
    port: opts.port,
    operationsAddress: `127.0.0.1:${opts.operationsPort ?? 0}`,
    org: opts.org,
    affiliations: opts.affiliations ?? ['operations', 'trading', 'gateway'],
    registrar: opts.registrar,
    csr: {
      commonName: opts.subject?.commonName ?? opts.caName,
      organization: opts.subject?.organization ?? opts.org,
      country: opts.subject?.country ?? 'CH',
    },
    tlsCertFile: tls.certFile,
    tlsKeyFile: tls.keyFile,
    crlExpiry: '24h',
    certExpiry: '8760h',
  });
  // The file holds the bootstrap secret: owner-only.
  writeFileSync(configFile, config, { mode: 0o600 });

  const { pid, exited } = spawnDetached(binary, ['start', '--home', home, '--config', configFile], home, opts.logFile);
  const handle: CaServerHandle = {
    pid,
    url: `https://127.0.0.1:${opts.port}`,
    tlsCertFile: tls.certFile,
    caCertFile: join(home, 'ca-cert.pem'),
  };
  // Cleared once start-up is decided, so a losing health loop stops probing.
  const probing = { active: true };
  try {
    await Promise.race([waitHealthy(handle, opts.caName, opts.startTimeoutMs ?? 30_000, probing), exited]);
  } catch (err) {
    await stopProcess(pid);
    const reason = err instanceof Error ? err.message : String(err);
    throw new CertsError(
      'ca_server_start',
      `fabric-ca-server ${opts.caName} on port ${opts.port}: ${reason}\n--- last lines of ${opts.logFile} ---\n${logTail(opts.logFile)}`,
      { cause: err },
    );
  } finally {
    probing.active = false;
  }
  return handle;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function validateOptions(opts: Readonly<CaServerOptions>): void {
  const bad = (what: string) => {
    throw new CertsError('invalid_input', `startCaServer: invalid ${what}`);
  };
  const isPort = (p: number) => Number.isInteger(p) && p > 0 && p < 65536;
  if (!isPort(opts.port)) bad(`port ${opts.port}`);
  if (opts.operationsPort !== undefined && (!isPort(opts.operationsPort) || opts.operationsPort === opts.port)) {
    bad(`operationsPort ${opts.operationsPort}`);
  }
  // Affiliations are dotted paths in Fabric CA: a dot inside one name would nest it.
  for (const [what, value] of [
    ['caName', opts.caName],
    ['org', opts.org],
    ...(opts.affiliations ?? []).map((a) => ['affiliation', a]),
  ]) {
    if (!NAME.test(value ?? '')) bad(`${what} '${value}' (letters, digits, '-', '_')`);
  }
  if (!opts.registrar.id || !opts.registrar.secret) bad('registrar (id and secret are required)');
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
  if (!isAlive(pid)) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  const termDeadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < termDeadline) await delay(25);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return true;
    }
    const killDeadline = Date.now() + 5_000;
    while (isAlive(pid) && Date.now() < killDeadline) await delay(25);
  }
  return true;
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
