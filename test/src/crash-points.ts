/**
 * Choosing the moment of a crash or a freeze in the two-gateway tests and `make demo`: a gateway
 * database watched until an action is journaled, and anvil mining held back block by block
 * (anvil-only RPC: tests and the demo, never product code).
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Address } from 'viem';
import type { NetworkState } from '../../network/src/state';
import { sleep, type GatewayProcess } from './two-banks';

/**
 * Runs `act` as soon as the gateway database `dbFile` journals a `kind` action of `tradeId` in
 * `state` (read-only, polled every 5 ms; the gateway writes in WAL mode). For a Fabric lock,
 * `prepared` means signed, journaled and being submitted, not yet confirmed.
 */
export async function whenJournaled(
  dbFile: string,
  tradeId: string,
  kind: string,
  state: string,
  act: () => void | Promise<void>,
  withinMs = 60_000,
): Promise<void> {
  for (const deadline = Date.now() + withinMs; Date.now() < deadline; await sleep(5)) {
    if (!existsSync(dbFile)) continue;
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      const row = db
        .prepare('SELECT id FROM ledger_actions WHERE trade_id = ? AND kind = ? AND state = ?')
        .get(tradeId, kind, state);
      if (row !== undefined) {
        await act();
        return;
      }
    } finally {
      db.close();
    }
  }
  throw new Error(`no ${kind} action of ${tradeId} reached state ${state} in ${dbFile} within ${withinMs} ms`);
}

async function anvilRpc<T>(net: NetworkState, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(net.evm.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

interface PoolTx {
  readonly from: string;
  readonly to: string | null;
}

async function pendingTxs(net: NetworkState): Promise<PoolTx[]> {
  const pool = await anvilRpc<{ pending: Record<string, Record<string, PoolTx>> }>(net, 'txpool_content');
  return Object.values(pool.pending).flatMap((byNonce) => Object.values(byNonce));
}

/**
 * Runs `act` at a chosen moment of a settlement: with automine off, every pending transaction is
 * mined one block at a time until a transaction from `from` to the HashedTimelock (a lock, claim
 * or refund; approvals go to the token) waits in the pool; then `act` runs before that block is
 * mined. Automine is back on afterwards. Start it before the trade is instructed.
 */
export async function beforeHtlcCallIsMined(
  net: NetworkState,
  from: Address,
  act: () => void | Promise<void>,
  withinMs = 60_000,
): Promise<void> {
  const htlc = (net.evm.contracts['HashedTimelock'] as string).toLowerCase();
  await anvilRpc(net, 'evm_setAutomine', [false]);
  try {
    for (const deadline = Date.now() + withinMs; Date.now() < deadline; await sleep(20)) {
      const pending = await pendingTxs(net);
      if (pending.some((tx) => tx.from.toLowerCase() === from.toLowerCase() && tx.to?.toLowerCase() === htlc)) {
        await act();
        await anvilRpc(net, 'evm_mine');
        return;
      }
      if (pending.length > 0) await anvilRpc(net, 'evm_mine');
    }
    throw new Error(`no HashedTimelock call from ${from} reached the pool within ${withinMs} ms`);
  } finally {
    await anvilRpc(net, 'evm_setAutomine', [true]);
  }
}

/**
 * Makes "the leader never claims" happen deterministically: the leader's gateway is frozen
 * (SIGSTOP) once the follower's lock waits in the pool, before it is mined, so the leader never
 * sees it in time.
 */
export function freezeLeaderBeforeItCanClaim(
  net: NetworkState,
  leader: GatewayProcess,
  follower: Address,
  withinMs = 60_000,
): Promise<void> {
  return beforeHtlcCallIsMined(net, follower, () => leader.pause(), withinMs);
}
