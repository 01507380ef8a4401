/**
 * Follows one contract's events over `eth_getLogs`, from a durable checkpoint in the store. Logs
 * are read in chunks up to the head minus `confirmations`; each chunk's events and the new
 * checkpoint are committed together, so after a restart the follower neither misses nor re-reads
 * an event. Handlers then get every event not yet marked handled, in ledger order.
 */
import { decodeEventLog, zeroHash, type Abi, type Address, type Log, type PublicClient } from 'viem';
import type { EventFollower, LedgerEvent, LedgerEventHandler, CheckpointStore } from '../connector';
import { PollingFollower } from '../follower-base';
import { toLedgerError } from './tx';

/** Options of {@link createEvmFollower}. */
export interface EvmFollowerOptions {
  readonly client: PublicClient;
  readonly store: CheckpointStore;
  /** Stream name; the contract address is appended so a redeployment starts a new checkpoint. */
  readonly name: string;
  readonly address: Address;
  readonly abi: Abi;
  readonly handler: LedgerEventHandler;
  /** First block to read when there is no checkpoint (the deployment block). */
  readonly fromBlock: bigint;
  /** Blocks to stay behind the head (0 on QBFT/anvil: immediate finality). */
  readonly confirmations: number;
  /** Maximum blocks per `eth_getLogs`. */
  readonly chunk: bigint;
}

function stringify(value: unknown): string {
  return typeof value === 'bigint' ? value.toString() : String(value);
}

/**
 * Normalizes a decoded contract log; undefined for logs of other events/ABIs. The preimage of
 * `claimed` and of a `released` with one is 0x-hex; a `released` without one has none.
 */
export function toLedgerEvent(stream: string, abi: Abi, log: Log): LedgerEvent | undefined {
  if (log.blockNumber === null || log.logIndex === null || log.transactionHash === null) return undefined;
  let decoded: { eventName: string; args: unknown };
  try {
    decoded = decodeEventLog({ abi, data: log.data, topics: log.topics });
  } catch {
    return undefined;
  }
  const args = (decoded.args ?? {}) as Record<string, unknown>;
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(args)) data[k] = stringify(v);
  // An escrow's `Released` carries zero for a release without preimage: none, as on Fabric.
  if (data['preimage'] === zeroHash) delete data['preimage'];
  const ref = data['lockId'] ?? data['escrowId'] ?? '';
  const kind = decoded.eventName.toLowerCase();
  return {
    ledger: 'evm',
    stream,
    kind,
    ref,
    block: log.blockNumber,
    logIndex: log.logIndex,
    txId: log.transactionHash,
    data,
  };
}

/** Creates a follower; nothing runs until `syncOnce` or `start`. */
export function createEvmFollower(options: Readonly<EvmFollowerOptions>): EventFollower {
  return new EvmFollower(options);
}

class EvmFollower extends PollingFollower {
  readonly stream: string;
  readonly #o: Readonly<EvmFollowerOptions>;

  constructor(options: Readonly<EvmFollowerOptions>) {
    super('evm', options.store, options.handler);
    this.#o = options;
    this.stream = `${options.name}:${options.address.toLowerCase()}`;
  }

  protected readError(err: unknown): Error {
    return toLedgerError(err, 'eth_getLogs', { stream: this.stream });
  }

  /** Reads logs from the checkpoint to the head, committing events and checkpoint per chunk. */
  protected async ingest(): Promise<void> {
    const { client, store, chunk } = this.#o;
    const head = (await client.getBlockNumber()) - BigInt(this.#o.confirmations);
    let from = (store.checkpoint('evm', this.stream) ?? this.#o.fromBlock - 1n) + 1n;
    while (from <= head) {
      const to = from + chunk - 1n < head ? from + chunk - 1n : head;
      const logs = await client.getLogs({ address: this.#o.address, fromBlock: from, toBlock: to });
      const events = logs.map((log) => toLedgerEvent(this.stream, this.#o.abi, log)).filter((e) => e !== undefined);
      store.ingest('evm', this.stream, to, events);
      from = to + 1n;
    }
  }
}
