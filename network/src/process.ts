/**
 * Native processes of the local network: started detached with their output in a log file, found
 * again by PID (never by name), waited on through their health endpoints, stopped by PID.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { isAlive } from '@dvp/certs';

export interface StartedProcess {
  readonly pid: number;
  readonly log: string;
}

export interface SpawnOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly log: string;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `command` detached from this process (it outlives `network-up`), appending to `log`. */
export function spawnDetached(opts: Readonly<SpawnOptions>): StartedProcess {
  const fd = openSync(opts.log, 'a');
  try {
    const child = spawn(opts.command, [...opts.args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${opts.command}`);
    child.unref();
    return { pid: child.pid, log: opts.log };
  } finally {
    closeSync(fd);
  }
}

/**
 * Liveness and stopping by PID are shared with the CA launcher of @dvp/certs: a zombie counts as
 * dead; stopping is SIGTERM, then SIGKILL after a grace period, never a process group.
 */
export { isAlive, stopProcess as stopPid } from '@dvp/certs';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The last `lines` lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Thrown when a component does not come up; names it and carries the tail of its log. */
export class ComponentError extends Error {
  constructor(
    readonly component: string,
    reason: string,
    readonly log?: string,
  ) {
    super(`${component}: ${reason}${log ? `\n--- last lines of ${log} ---\n${tail(log)}` : ''}`);
    this.name = 'ComponentError';
  }
}

/**
 * Polls `probe` until it returns true, the process dies, or `timeoutMs` passes. No fixed sleeps:
 * it returns as soon as the component answers.
 */
export async function waitHealthy(
  component: string,
  proc: StartedProcess,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(proc.pid)) throw new ComponentError(component, `exited during start-up`, proc.log);
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new ComponentError(component, `not healthy after ${timeoutMs} ms`, proc.log);
}
