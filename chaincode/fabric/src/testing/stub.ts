/**
 * An in-memory stand-in for a peer's ChaincodeStub, faithful where it matters for correctness:
 * reads see only committed state (Fabric has no read-your-writes), writes are buffered and
 * committed only when the transaction succeeds, only the last `setEvent` survives, composite
 * keys use Fabric's encoding, and time is the transaction timestamp set by the test.
 */
import type { ChaincodeStub, Iterators, SerializedIdentity, Timestamp } from 'fabric-shim-api';

const NS = '\u0000';
const MAX_RUNE = '\u{10ffff}';

/** One committed modification of a key. */
export interface Modification {
  readonly txId: string;
  readonly timestamp: number;
  readonly isDelete: boolean;
  readonly value: Buffer;
}

/** An event as the peer would deliver it to a listener. */
export interface EmittedEvent {
  readonly name: string;
  readonly payload: Buffer;
}

/** World state shared by all transactions of one test ledger. */
export class MemoryWorld {
  readonly state = new Map<string, Buffer>();
  readonly history = new Map<string, Modification[]>();

  /** Applies a successful transaction's write set. */
  commit(txId: string, timestamp: number, writes: ReadonlyMap<string, Buffer | null>): void {
    for (const [key, value] of writes) {
      if (value === null) this.state.delete(key);
      else this.state.set(key, value);
      const mods = this.history.get(key) ?? [];
      mods.push({ txId, timestamp, isDelete: value === null, value: value ?? Buffer.alloc(0) });
      this.history.set(key, mods);
    }
  }

  /** Committed keys in [start, end), sorted as CouchDB/LevelDB would return them. */
  range(start: string, end: string): [string, Buffer][] {
    return [...this.state.entries()]
      .filter(([k]) => k >= start && k < end)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** What a transaction needs to know about its proposal. */
export interface ProposalSpec {
  readonly txId: string;
  readonly channelId: string;
  readonly timestamp: number;
  readonly creator: SerializedIdentity;
  /** fcn then parameters, as strings. */
  readonly args: readonly string[];
}

function iterator<T>(items: readonly T[]): Promise<Iterators.CommonIterator<T>> & AsyncIterable<T> {
  let i = 0;
  const it: Iterators.CommonIterator<T> = {
    next: async () =>
      i < items.length ? { value: items[i++] as T, done: false } : { value: undefined as T, done: true },
    close: async () => undefined,
  };
  const promise = Promise.resolve(it) as Promise<Iterators.CommonIterator<T>> & AsyncIterable<T>;
  promise[Symbol.asyncIterator] = async function* () {
    yield* items;
  };
  return promise;
}

function timestampOf(seconds: number): Timestamp {
  // The shim's Timestamp.seconds is a Long; anything with toString() is enough for the contract.
  return { seconds: { toString: () => seconds.toString(), toNumber: () => seconds }, nanos: 0 } as unknown as Timestamp;
}

/** One transaction's stub over a {@link MemoryWorld}. */
export class MemoryStub {
  readonly writes = new Map<string, Buffer | null>();
  event: EmittedEvent | undefined;
  readonly #world: MemoryWorld;
  readonly #spec: ProposalSpec;

  constructor(world: MemoryWorld, spec: ProposalSpec) {
    this.#world = world;
    this.#spec = spec;
  }

  /** This object typed as the shim's interface (only the methods below are implemented). */
  asStub(): ChaincodeStub {
    return this as unknown as ChaincodeStub;
  }

  getArgs(): string[] {
    return [...this.#spec.args];
  }
  getStringArgs(): string[] {
    return [...this.#spec.args];
  }
  getBufferArgs(): Buffer[] {
    return this.#spec.args.map((a) => Buffer.from(a, 'utf8'));
  }
  getFunctionAndParameters(): { fcn: string; params: string[] } {
    const [fcn = '', ...params] = this.#spec.args;
    return { fcn, params };
  }
  getTxID(): string {
    return this.#spec.txId;
  }
  getChannelID(): string {
    return this.#spec.channelId;
  }
  getCreator(): SerializedIdentity {
    return this.#spec.creator;
  }
  getMspID(): string {
    return this.#spec.creator.mspid;
  }
  getTxTimestamp(): Timestamp {
    return timestampOf(this.#spec.timestamp);
  }
  getDateTimestamp(): Date {
    return new Date(this.#spec.timestamp * 1000);
  }
  getTransient(): Map<string, Uint8Array> {
    return new Map();
  }

  async getState(key: string): Promise<Uint8Array> {
    return this.#world.state.get(key) ?? Buffer.alloc(0);
  }
  async putState(key: string, value: Uint8Array): Promise<void> {
    if (value.length === 0) throw new Error('putState: empty value (use deleteState)');
    this.writes.set(key, Buffer.from(value));
  }
  async deleteState(key: string): Promise<void> {
    this.writes.set(key, null);
  }

  createCompositeKey(objectType: string, attributes: string[]): string {
    return `${NS}${objectType}${NS}${attributes.map((a) => `${a}${NS}`).join('')}`;
  }
  splitCompositeKey(compositeKey: string): { objectType: string; attributes: string[] } {
    const parts = compositeKey.slice(1).split(NS);
    return { objectType: parts[0] ?? '', attributes: parts.slice(1, -1) };
  }

  getStateByRange(
    startKey: string,
    endKey: string,
  ): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    const items = this.#world
      .range(startKey, endKey || MAX_RUNE)
      .map(([key, value]) => ({ namespace: 'cc', key, value }));
    return iterator(items);
  }
  getStateByPartialCompositeKey(
    objectType: string,
    attributes: string[],
  ): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    const prefix = this.createCompositeKey(objectType, attributes);
    return this.getStateByRange(prefix, prefix + MAX_RUNE);
  }
  getHistoryForKey(key: string): Promise<Iterators.HistoryQueryIterator> & AsyncIterable<Iterators.KeyModification> {
    const mods = (this.#world.history.get(key) ?? []).map((m) => ({
      isDelete: m.isDelete,
      value: m.value,
      txId: m.txId,
      timestamp: timestampOf(m.timestamp),
    }));
    return iterator(mods);
  }

  setEvent(name: string, payload: Uint8Array): void {
    // Fabric keeps only the last event of a transaction.
    this.event = { name, payload: Buffer.from(payload) };
  }
}
