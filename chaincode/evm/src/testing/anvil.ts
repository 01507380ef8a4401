/**
 * Test-only: starts a throw-away anvil node and gives access to its funded accounts and its
 * anvil-only RPC methods (time travel). Never use from product code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createTestClient, defineChain, http, type Chain, type TestClient } from 'viem';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';

/** The well-known mnemonic anvil funds its default accounts from (test keys, never real funds). */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export interface AnvilOptions {
  /** Fixed chain id; default 31337. */
  readonly chainId?: number;
  /** Hardfork; default `prague`, the evmVersion the contracts are compiled for. */
  readonly hardfork?: string;
  /** Milliseconds to wait for the node to listen; default 20000. */
  readonly startTimeoutMs?: number;
}

export interface Anvil {
  readonly rpcUrl: string;
  readonly chain: Chain;
  /** Client for anvil-only methods: `setNextBlockTimestamp`, `mine`, `increaseTime`, ... */
  readonly testClient: TestClient<'anvil'>;
  /** Stops the node and waits for the process to exit. Safe to call twice. */
  stop(): Promise<void>;
}

/** Funded account `index` (0..9) of the anvil node. */
export function anvilAccount(index: number): HDAccount {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
}

function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`);
    return path.join(path.dirname(pkg), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  } catch {
    return 'anvil'; // fall back to PATH
  }
}

function waitForPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`anvil did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1]) {
        cleanup();
        resolve(Number(m[1]));
      }
    };
    const onErr = (chunk: Buffer): void => {
      out += chunk.toString();
    };
    const onExit = (code: number | null): void => fail(new Error(`anvil exited (${code}) before listening:\n${out}`));
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      child.off('error', fail);
    };
    function fail(err: Error): void {
      cleanup();
      reject(err);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onErr);
    child.once('exit', onExit);
    child.once('error', fail);
  });
}

/** Starts anvil on 127.0.0.1, a free port chosen by the OS, with `--prune-history`. */
export async function startAnvil(options: Readonly<AnvilOptions> = {}): Promise<Anvil> {
  const chainId = options.chainId ?? 31337;
  const args = ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(chainId), '--prune-history', '256'];
  args.push('--hardfork', options.hardfork ?? 'prague');
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let port: number;
  try {
    port = await waitForPort(child, options.startTimeoutMs ?? 20_000);
  } catch (err) {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    throw err;
  }
  child.stderr?.resume();
  child.stdout?.resume(); // keep draining the per-transaction log so the pipe never fills
  const rpcUrl = `http://127.0.0.1:${port}`;
  const chain = defineChain({
    id: chainId,
    name: 'anvil',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  return {
    rpcUrl,
    chain,
    testClient: createTestClient({ mode: 'anvil', chain, transport: http(rpcUrl) }),
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
