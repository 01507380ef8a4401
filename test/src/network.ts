/**
 * Access to the shared local network for cross-ledger tests. `make test` brings it up once before
 * jest starts and down after; run `make network-up` first when running these tests by hand.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { networkPaths, readState, type NetworkState } from '../../network/src/state';

export function sharedNetwork(): NetworkState {
  const { stateFile } = networkPaths();
  const state = readState(stateFile);
  if (!state)
    throw new Error(`no network state at ${stateFile}: run "make network-up" first (make test does it for you)`);
  return state;
}

/**
 * How long a file waits for the banks' cash: the longest holder (the escrow crash matrix, about
 * 8 minutes here) with room for a slower machine.
 */
export const BANK_CASH_WAIT_MS = 30 * 60_000;

/** The `beforeAll` timeout of a file that takes the banks' cash. */
export const BANK_CASH_SETUP_MS = BANK_CASH_WAIT_MS + 60_000;

/**
 * The banks' cash accounts on the shared network's CashToken, held by one test file at a time:
 * files that issue cash to the banks and assert their exact balance deltas take it in `beforeAll`
 * and give it back in `afterAll`, so two of them running in parallel jest workers never see each
 * other's transfers. A lock left by a process that died is taken over.
 */
export async function lockBankCash(net: NetworkState, timeoutMs = BANK_CASH_WAIT_MS): Promise<() => void> {
  const dir = join(net.stateDir, 'bank-cash.lock');
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 250))) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!holderAlive(dir)) rmSync(dir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`the banks' cash stayed locked for ${timeoutMs} ms (${dir})`);
    }
  }
}

function holderAlive(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
  } catch {
    return true; // being created right now
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
