/**
 * The cash ledger: anvil (from npm) on loopback with a fixed chain id and mnemonic, automine on
 * (every transaction is mined at once: lowest latency for a local ledger), and `--prune-history`
 * so it does not fill ~/.foundry with per-block state.
 */
import { join } from 'node:path';
import { mnemonicToAccount } from 'viem/accounts';
import type { NetworkConfig } from './config';
import { spawnDetached, waitHealthy, type StartedProcess } from './process';

/** Path of the anvil binary that npm installed for this platform. */
export function anvilBinary(): string {
  return join(require.resolve('@foundry-rs/anvil/package.json'), '..', '..', '..', '.bin', 'anvil');
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

export async function startAnvil(cfg: NetworkConfig['evm'], logDir: string): Promise<AnvilHandle> {
  const rpcUrl = `http://127.0.0.1:${cfg.port}`;
  const proc = spawnDetached({
    command: anvilBinary(),
    args: [
      '--host', '127.0.0.1',
      '--port', String(cfg.port),
      '--chain-id', String(cfg.chainId),
      '--mnemonic', cfg.mnemonic,
      '--accounts', String(cfg.accounts),
      '--balance', String(cfg.balanceEth),
      '--prune-history',
    ],
    log: join(logDir, 'anvil.log'),
  });
  await waitHealthy('anvil', proc, async () => {
    const id = await rpc<string>(rpcUrl, 'eth_chainId');
    return Number(id) === cfg.chainId;
  });
  const accounts = Array.from({ length: cfg.accounts }, (_, i) => mnemonicToAccount(cfg.mnemonic, { addressIndex: i }).address);
  return { ...proc, rpcUrl, accounts };
}
