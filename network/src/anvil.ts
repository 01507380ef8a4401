/**
 * The cash ledger: anvil (from npm) on loopback with a fixed chain id and mnemonic, automine on
 * (every transaction is mined at once: lowest latency for a local ledger), and `--prune-history`
 * so it does not fill ~/.foundry with per-block state.
 */
import { join } from 'node:path';
import { mnemonicToAccount } from 'viem/accounts';
import type { NetworkConfig } from './config';
import { spawnDetached, waitHealthy, type StartedProcess } from './process';

/**
 * Path of the native anvil binary npm installed for this platform. Started directly, not through
 * the npm `bin` wrapper: the wrapper is a node process with anvil as its child, and stopping the
 * recorded PID must stop anvil itself.
 */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  return join(require.resolve(`${pkg}/package.json`), '..', 'bin', 'anvil');
}

/** One JSON-RPC call over plain HTTP (works against anvil, Besu or geth alike). */
export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export interface AnvilHandle extends StartedProcess {
  readonly rpcUrl: string;
  readonly accounts: `0x${string}`[];
}

/**
 * Starts anvil and resolves once it answers `eth_chainId`. `onSpawn` gets the PID before the
 * health wait, so a caller can stop it even if it never becomes healthy.
 */
export async function startAnvil(
  cfg: NetworkConfig['evm'],
  logDir: string,
  onSpawn: (proc: StartedProcess) => void,
): Promise<AnvilHandle> {
  const rpcUrl = `http://127.0.0.1:${cfg.port}`;
  const proc = spawnDetached({
    command: anvilBinary(),
    args: [
      '--host',
      '127.0.0.1',
      '--port',
      String(cfg.port),
      '--chain-id',
      String(cfg.chainId),
      '--mnemonic',
      cfg.mnemonic,
      '--accounts',
      String(cfg.accounts),
      '--balance',
      String(cfg.balanceEth),
      // No state on disk (anvil never cleans ~/.foundry otherwise); the last 256 block states in
      // memory, so a read that names a block a few blocks back still answers.
      '--prune-history',
      '256',
    ],
    log: join(logDir, 'anvil.log'),
  });
  onSpawn(proc);
  await waitHealthy('anvil', proc, async () => {
    const id = await rpc<string>(rpcUrl, 'eth_chainId');
    return Number(id) === cfg.chainId;
  });
  const accounts = Array.from(
    { length: cfg.accounts },
    (_, i) => mnemonicToAccount(cfg.mnemonic, { addressIndex: i }).address,
  );
  return { ...proc, rpcUrl, accounts };
}
