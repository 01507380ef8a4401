/**
 * Follows the securities chaincode's events (one stream for HTLC events, one for escrow events)
 * from a durable block checkpoint in the follower store.
 *
 * A sync asks the channel height (qscc `GetChainInfo`), then reads chaincode events from the
 * block after the checkpoint. Fabric's event stream never ends, so reading stops at the first
 * event beyond the tip seen at the start (every block up to the tip is then complete and becomes
 * the checkpoint), or when no event arrives for `idleMs`: then only the blocks before the last
 * event's block are known complete, and that block is read again next time. Re-reading is
 * harmless: the inbox is unique per (block, index), and an event's index is its position among
 * this chaincode's events in its block, which does not depend on where reading started.
 */
import type { ChaincodeEvent } from '@hyperledger/fabric-gateway';
import type { CheckpointStore, EventFollower, LedgerEvent, LedgerEventHandler } from '../connector';
import { PollingFollower } from '../follower-base';
import { toFabricLedgerError } from './errors';
import type { FabricNetwork } from './surface';
import { chainHeight } from './wire';

/** Event names of each stream and the kind they become. */
export const FABRIC_STREAMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  htlc: { HTLCLocked: 'locked', HTLCClaimed: 'claimed', HTLCRefunded: 'refunded' },
  escrow: { EscrowDeposited: 'deposited', EscrowReleased: 'released', EscrowReturned: 'returned' },
};

/** Options of {@link createFabricFollower}. */
export interface FabricFollowerOptions {
  readonly network: FabricNetwork;
  readonly chaincode: string;
  readonly store: CheckpointStore;
  /** `htlc` or `escrow` (see {@link FABRIC_STREAMS}). */
  readonly name: string;
  readonly handler: LedgerEventHandler;
  /** First block read when there is no checkpoint. */
  readonly fromBlock: bigint;
  /** How long a quiet event stream is taken as caught up. */
  readonly idleMs: number;
}

/**
 * An event payload's fields as strings, with the names the EVM events use next to the chaincode's
 * own, and preimages as the EVM gives them: 0x-hex, and none where the chaincode stores '' (a lock
 * not claimed, an escrow no release with preimage has opened; a later release by the controller
 * carries the preimage an earlier one revealed, which the escrow keeps).
 */
function eventData(payload: Readonly<Record<string, unknown>>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload)) data[k] = typeof v === 'string' ? v : JSON.stringify(v);
  if (data['quantity'] !== undefined) data['amount'] = data['quantity'];
  if (data['isin'] !== undefined) data['asset'] = data['isin'];
  const preimage = data['preimage'];
  if (preimage === '') delete data['preimage'];
  else if (preimage !== undefined) data['preimage'] = `0x${preimage}`;
  return data;
}

/** Normalizes a chaincode event of `stream`; undefined for events of other streams. */
export function toFabricLedgerEvent(stream: string, event: ChaincodeEvent, index: number): LedgerEvent | undefined {
  const name = stream.split(':')[0] ?? '';
  const kind = FABRIC_STREAMS[name]?.[event.eventName];
  if (kind === undefined) return undefined;
  const data = eventData(JSON.parse(Buffer.from(event.payload).toString('utf8')) as Record<string, unknown>);
  const ref = data['lockId'] ?? data['escrowId'] ?? '';
  return {
    ledger: 'fabric',
    stream,
    kind,
    ref,
    block: event.blockNumber,
    logIndex: index,
    txId: event.transactionId,
    data,
  };
}

/** Creates a follower; nothing runs until `syncOnce` or `start`. */
export function createFabricFollower(options: Readonly<FabricFollowerOptions>): EventFollower {
  return new FabricFollower(options);
}

const IDLE = Symbol('idle');

class FabricFollower extends PollingFollower {
  readonly stream: string;
  readonly #o: Readonly<FabricFollowerOptions>;
  /**
   * Where the last read went idle: from this block, with the chain at this tip. Until a block is
   * added there is nothing new to read, and no stream is opened: a peer frees a cancelled events
   * stream only once its next block commits, so one stream per poll on an idle channel would use
   * up the peer's gateway concurrency limit (500) within minutes.
   */
  #idleAt: { readonly from: bigint; readonly tip: bigint } | undefined;

  constructor(options: Readonly<FabricFollowerOptions>) {
    super('fabric', options.store, options.handler);
    this.#o = options;
    // Channel and chaincode in the name: another deployment starts another checkpoint.
    this.stream = `${options.name}:${options.network.getName()}/${options.chaincode}`;
  }

  protected readError(err: unknown): Error {
    return toFabricLedgerError(err, 'chaincode events', { stream: this.stream });
  }

  async #tip(): Promise<bigint> {
    const { network } = this.#o;
    return chainHeight(await network.getContract('qscc').evaluateTransaction('GetChainInfo', network.getName())) - 1n;
  }

  /** Reads events from the checkpoint; stores them with the last block known complete. */
  protected async ingest(): Promise<void> {
    const { store, network } = this.#o;
    const tip = await this.#tip();
    const from = (store.checkpoint('fabric', this.stream) ?? this.#o.fromBlock - 1n) + 1n;
    if (from > tip || (this.#idleAt?.from === from && this.#idleAt.tip === tip)) return;
    const events = await network.getChaincodeEvents(this.#o.chaincode, { startBlock: from });
    let got: { readonly read: LedgerEvent[]; readonly complete: bigint; readonly idle: boolean };
    try {
      got = await this.#readUpTo(events[Symbol.asyncIterator](), from, tip);
    } finally {
      events.close();
    }
    // Block 0 is the channel's genesis (configuration) block: it never carries chaincode events.
    const checkpoint = got.complete < 0n ? 0n : got.complete;
    store.ingest('fabric', this.stream, checkpoint, got.read);
    this.#idleAt = got.idle ? { from: checkpoint + 1n, tip } : undefined;
  }

  /** Events of blocks `from`..`tip`, the last block known complete, and whether the stream went idle. */
  async #readUpTo(
    it: AsyncIterator<ChaincodeEvent>,
    from: bigint,
    tip: bigint,
  ): Promise<{ read: LedgerEvent[]; complete: bigint; idle: boolean }> {
    const read: LedgerEvent[] = [];
    let complete = from - 1n;
    let block = -1n;
    let index = 0;
    for (;;) {
      const next = await this.#nextOrIdle(it);
      if (next === IDLE || next.done === true) return { read, complete, idle: next === IDLE };
      const event = next.value;
      if (event.blockNumber > tip) return { read, complete: tip, idle: false };
      if (event.blockNumber !== block) {
        // Events come in block order: every block before this one is complete.
        complete = event.blockNumber - 1n;
        [block, index] = [event.blockNumber, 0];
      }
      const normalized = toFabricLedgerEvent(this.stream, event, index);
      index += 1;
      if (normalized) read.push(normalized);
    }
  }

  async #nextOrIdle(it: AsyncIterator<ChaincodeEvent>): Promise<IteratorResult<ChaincodeEvent> | typeof IDLE> {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<typeof IDLE>((resolve) => (timer = setTimeout(() => resolve(IDLE), this.#o.idleMs)));
    try {
      return await Promise.race([it.next(), idle]);
    } finally {
      clearTimeout(timer);
    }
  }
}
