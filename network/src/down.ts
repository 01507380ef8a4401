/**
 * `make network-down`: stops every process `network-up` started, by PID (never by name), checks
 * their ports are closed, and deletes the state unless asked to keep it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { portOpen, stopPid } from './process';
import { ProcessRegistry } from './registry';
import type { NetworkPaths } from './state';

export interface DownOptions {
  readonly keepState: boolean;
  readonly log: (line: string) => void;
}

export async function networkDown(paths: NetworkPaths, opts: Readonly<DownOptions>): Promise<void> {
  const records = ProcessRegistry.read(join(paths.stateDir, 'processes.json'));
  if (records.length === 0) opts.log('network-down: no process recorded; nothing to stop');
  // Reverse start order: dependants (gateways, chaincode) before the ledgers they use.
  for (const rec of [...records].reverse()) {
    await stopPid(rec.pid);
    opts.log(`network-down: stopped ${rec.name} (pid ${rec.pid})`);
  }
  const ports = records.flatMap((r) => r.ports);
  const deadline = Date.now() + 5_000;
  let open = ports;
  while (open.length > 0 && Date.now() < deadline) {
    const probes = await Promise.all(open.map(async (p) => ((await portOpen(p)) ? p : undefined)));
    open = probes.filter((p): p is number => p !== undefined);
    if (open.length > 0) await new Promise((r) => setTimeout(r, 100));
  }
  if (open.length > 0) throw new Error(`network-down: ports still listening after stop: ${open.join(', ')}`);
  if (opts.keepState) {
    opts.log(`network-down: state kept in ${paths.stateDir} (KEEP=1)`);
  } else {
    rmSync(paths.stateDir, { recursive: true, force: true });
    opts.log(`network-down: state deleted (${paths.stateDir})`);
  }
}
