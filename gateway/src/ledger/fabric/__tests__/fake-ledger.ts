/**
 * The ledger behind the Fabric fake (`fabric-fake.ts`). NOT A PEER: one process, one channel, one
 * chaincode, no MSP validation, no endorsement policy, no gossip. What it does do, the way a peer
 * and orderer do it:
 *
 * - Endorsement runs the REAL securities chaincode through the REAL fabric-contract-api dispatch
 *   (the shim's `ChaincodeFromContract.Invoke`, as `chaincode/fabric/src/testing/harness.ts`)
 *   over the chaincode package's in-memory stub, recording the read set (key versions, range
 *   reads), the write set and the event, without touching state.
 * - Ordering checks the creator's signature over the envelope and cuts blocks (one transaction
 *   per block, or several while {@link FakeLedger.hold} is on); blocks are numbered from 1 after
 *   the genesis block 0.
 * - Commit validates each transaction in block order: a transaction id seen before is
 *   DUPLICATE_TXID, a read key whose version changed is MVCC_READ_CONFLICT, a range whose keys
 *   changed is PHANTOM_READ_CONFLICT; only valid transactions apply their write set and keep
 *   their event. Every transaction id is indexed with its block and validation code.
 */
import '../../../../../chaincode/fabric/src/testing/quiet';
import { createHash, verify, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { StatusCode } from '@hyperledger/fabric-gateway';
import { JSONSerializer } from 'fabric-contract-api';
import type { ChaincodeResponse, ChaincodeStub, Iterators } from 'fabric-shim-api';
import { SecuritiesContract } from '../../../../../chaincode/fabric/src/contract';
import { MemoryStub, MemoryWorld } from '../../../../../chaincode/fabric/src/testing/stub';

type Invoke = { Invoke(stub: ChaincodeStub): Promise<ChaincodeResponse> };
type ChaincodeCtor = new (c: unknown[], s: unknown, m: object, t: string, v: string) => Invoke;
// What `fabric-chaincode-node` runs, resolved from the chaincode package as its harness does.
const load = createRequire(path.resolve(__dirname, '../../../../chaincode/fabric/package.json'));
const ChaincodeFromContract = load('fabric-shim/lib/contract-spi/chaincodefromcontract') as ChaincodeCtor;

/** Who signed a proposal, as the chaincode's `getCreator()` returns it. */
export interface Creator {
  readonly mspId: string;
  readonly certPem: string;
}

/** Read and write sets of one endorsement (values base64, `null` = delete). */
export interface RwSet {
  readonly reads: readonly (readonly [string, number])[];
  readonly ranges: readonly { readonly start: string; readonly end: string; readonly keys: string }[];
  readonly writes: readonly (readonly [string, string | null])[];
}

/** The endorsed transaction as the fake's envelope carries it. */
export interface Envelope {
  readonly txId: string;
  readonly channel: string;
  readonly chaincode: string;
  readonly creator: Creator;
  readonly fcn: string;
  readonly args: readonly string[];
  readonly timestamp: number;
  readonly result: string;
  readonly rwset: RwSet;
  readonly event?: { readonly name: string; readonly payload: string };
}

/** The chaincode's response to a proposal. */
export interface Simulation {
  readonly status: number;
  readonly message: string;
  readonly payload: Buffer;
  readonly rwset: RwSet;
  readonly event?: { readonly name: string; readonly payload: string };
}

/** A committed transaction in a block. */
export interface BlockTx {
  readonly envelope: Envelope;
  readonly code: number;
}

/** A cut block. */
export interface Block {
  readonly number: bigint;
  readonly txs: readonly BlockTx[];
}

/** The canonical bytes of an envelope: what its creator signs. */
export function envelopeBytes(env: Envelope): Buffer {
  return Buffer.from(JSON.stringify(env), 'utf8');
}

/** A stub that also records the read set, for the MVCC check at commit. */
class RecordingStub extends MemoryStub {
  readonly reads = new Map<string, number>();
  readonly ranges: { start: string; end: string; keys: string }[] = [];
  readonly #ledger: FakeLedger;

  constructor(ledger: FakeLedger, spec: ConstructorParameters<typeof MemoryStub>[1]) {
    super(ledger.world, spec);
    this.#ledger = ledger;
  }

  override async getState(key: string): Promise<Uint8Array> {
    this.reads.set(key, this.#ledger.version(key));
    return super.getState(key);
  }

  override getStateByRange(
    startKey: string,
    endKey: string,
  ): Promise<Iterators.StateQueryIterator> & AsyncIterable<Iterators.KV> {
    this.ranges.push({ start: startKey, end: endKey, keys: this.#ledger.rangeFingerprint(startKey, endKey) });
    return super.getStateByRange(startKey, endKey);
  }
}

/** One channel's ledger running the securities chaincode. */
export class FakeLedger {
  readonly world = new MemoryWorld();
  readonly blocks: Block[] = [{ number: 0n, txs: [] }];
  /** Unix seconds: the timestamp of the next proposal (a client's clock in Fabric). */
  time: number;
  readonly #chaincode: Invoke;
  readonly #index = new Map<string, { block: bigint; code: number }>();
  #held: { env: Envelope }[] | undefined;
  #waiters: (() => void)[] = [];

  constructor(
    readonly channel: string,
    readonly chaincode: string,
    time: number,
  ) {
    const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };
    this.#chaincode = new ChaincodeFromContract([SecuritiesContract], serializers, {}, chaincode, '0.0.0');
    this.time = time;
  }

  /** Committed version of a key (number of committed writes). */
  version(key: string): number {
    return this.world.history.get(key)?.length ?? 0;
  }

  /** Keys and versions in a range, to detect phantoms. */
  rangeFingerprint(start: string, end: string): string {
    return JSON.stringify(this.world.range(start, end || '\u{10ffff}').map(([k]) => [k, this.version(k)]));
  }

  /** Runs a proposal against committed state; changes nothing. */
  async simulate(
    creator: Creator,
    txId: string,
    timestamp: number,
    fcn: string,
    args: readonly string[],
  ): Promise<Simulation> {
    const stub = new RecordingStub(this, {
      txId,
      channelId: this.channel,
      timestamp,
      creator: { mspid: creator.mspId, idBytes: Buffer.from(creator.certPem, 'utf8') },
      args: [fcn, ...args],
    });
    const response = await this.#chaincode.Invoke(stub.asStub());
    const rwset: RwSet = {
      reads: [...stub.reads],
      ranges: stub.ranges,
      writes: [...stub.writes].map(([k, v]) => [k, v === null ? null : v.toString('base64')] as const),
    };
    const event = stub.event && { name: stub.event.name, payload: stub.event.payload.toString('base64') };
    return {
      status: response.status,
      message: response.message ?? '',
      payload: Buffer.from(response.payload ?? new Uint8Array()),
      rwset,
      ...(event && { event }),
    };
  }

  /** Orders a signed envelope; throws when the signature is not the creator's. */
  order(env: Envelope, signature: Uint8Array): void {
    const key = new X509Certificate(env.creator.certPem).publicKey;
    if (signature.length === 0 || !verify('sha256', envelopeBytes(env), key, signature))
      throw new Error(`bad creator signature on ${env.txId}`);
    if (this.#held) this.#held.push({ env });
    else this.#cut([env]);
  }

  /** Holds ordered transactions until {@link cut}, so that several land in one block. */
  hold(): void {
    this.#held ??= [];
  }

  /** Transactions waiting for the next block while held. */
  get heldCount(): number {
    return this.#held?.length ?? 0;
  }

  /** Cuts the held transactions into one block and stops holding. */
  cut(): Block | undefined {
    const held = this.#held ?? [];
    this.#held = undefined;
    return held.length > 0 ? this.#cut(held.map((h) => h.env)) : undefined;
  }

  /** Block number and validation code of a committed transaction id. */
  statusOf(txId: string): { readonly block: bigint; readonly code: number } | undefined {
    return this.#index.get(txId);
  }

  /** Number of blocks (the next block's number). */
  get height(): bigint {
    return BigInt(this.blocks.length);
  }

  /** Resolves when the next block is committed. */
  nextBlock(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #validate(env: Envelope, inBlock: ReadonlySet<string>): number {
    if (this.#index.has(env.txId) || inBlock.has(env.txId)) return StatusCode.DUPLICATE_TXID;
    if (env.rwset.reads.some(([k, v]) => this.version(k) !== v)) return StatusCode.MVCC_READ_CONFLICT;
    if (env.rwset.ranges.some((r) => this.rangeFingerprint(r.start, r.end) !== r.keys))
      return StatusCode.PHANTOM_READ_CONFLICT;
    return StatusCode.VALID;
  }

  #cut(envs: readonly Envelope[]): Block {
    const number = this.height;
    const seen = new Set<string>();
    const txs: BlockTx[] = [];
    for (const env of envs) {
      const code = this.#validate(env, seen);
      if (code === StatusCode.VALID) {
        const writes = new Map(env.rwset.writes.map(([k, v]) => [k, v === null ? null : Buffer.from(v, 'base64')]));
        this.world.commit(env.txId, env.timestamp, writes);
      }
      // The first occurrence of a transaction id is the one its status reports.
      if (!this.#index.has(env.txId)) this.#index.set(env.txId, { block: number, code });
      seen.add(env.txId);
      txs.push({ envelope: env, code });
    }
    const block = { number, txs };
    this.blocks.push(block);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    return block;
  }
}

/** A transaction id: hex SHA-256 over a nonce and the creator, as Fabric derives it (creator not protobuf-encoded here). */
export function newTxId(nonce: Buffer, creator: Creator): string {
  return createHash('sha256').update(nonce).update(creator.mspId).update(creator.certPem).digest('hex');
}
