/**
 * Running Fabric's command-line tools (`peer`, `osnadmin`, `configtxgen`) as an org's admin, and
 * the HTTP probes of the nodes' operations endpoints. Every failure names the command and carries
 * its output; nothing sleeps a fixed time.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { FabricBinaries } from './fabric-bin';
import { ComponentError } from './process';
import type { FabricOrgMsp } from './state';

/** The output of a command that succeeded. */
export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `file args` with `env` added; rejects with the command's output on a non-zero exit. */
export function run(
  component: string,
  file: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 120_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const output = `${stdout}${stderr}`.trim().split('\n').slice(-15).join('\n');
        const cmd = `${file.split('/').pop() ?? file} ${args.slice(0, 3).join(' ')}`;
        reject(new ComponentError(component, `'${cmd} ...' failed (${err.message.split('\n')[0]}):\n${output}`));
      },
    );
  });
}

/** Where a peer is and how an org admin reaches it with the `peer` CLI. */
export interface PeerTarget {
  readonly org: string;
  readonly msp: FabricOrgMsp;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** Folder with the peer's core.yaml (the CLI reads it too). */
  readonly cfgDir: string;
}

/** Environment for `peer` acting as the org admin against `target`. */
export function adminEnv(target: PeerTarget): Record<string, string> {
  return {
    FABRIC_CFG_PATH: target.cfgDir,
    CORE_PEER_LOCALMSPID: target.msp.mspId,
    CORE_PEER_MSPCONFIGPATH: target.msp.admin.mspDir,
    CORE_PEER_ADDRESS: target.address,
    CORE_PEER_TLS_ENABLED: 'true',
    CORE_PEER_TLS_ROOTCERT_FILE: join(target.msp.node.tlsDir, 'ca.crt'),
    // The CLI logs to stderr; only warnings and errors, so failures stay readable.
    FABRIC_LOGGING_SPEC: 'warning',
  };
}

/** `peer <args>` as the admin of `target`'s org. */
export function peerCli(bins: FabricBinaries, target: PeerTarget, args: readonly string[]): Promise<CliResult> {
  return run(`peer CLI (${target.org})`, bins.peer, args, adminEnv(target));
}

/** The arguments that name the orderer for `peer` CLI commands that order a transaction. */
export function ordererArgs(address: string, tlsCaFile: string): string[] {
  return ['-o', address, '--tls', '--cafile', tlsCaFile];
}

/** True when `GET http://127.0.0.1:<port>/healthz` answers 200. */
export async function healthz(port: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
  return res.status === 200;
}

/** True when the orderer at `operationsPort` reports itself Raft leader of `channel`. */
export async function isRaftLeader(operationsPort: number, channel: string): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${operationsPort}/metrics`, { signal: AbortSignal.timeout(2_000) });
  const text = await res.text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('consensus_etcdraft_is_leader{') && l.includes(`channel="${channel}"`));
  return line !== undefined && /\s1$/.test(line.trim());
}

/** Polls `probe` until true or `timeoutMs`; then throws naming `what`. */
export async function waitFor(component: string, what: string, probe: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const why = last instanceof Error ? `: ${last.message}` : '';
  throw new ComponentError(component, `${what} not reached after ${timeoutMs} ms${why}`);
}
