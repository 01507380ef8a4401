/**
 * Runs contracts in-process through the REAL fabric-contract-api dispatch (the shim's
 * ChaincodeFromContract `Invoke` path, `fcn` + string params, JSON serializer, metadata-driven
 * parameter validation) over a {@link MemoryWorld}: the same path a peer drives.
 */
import './quiet';
import { createRequire } from 'node:module';

import { JSONSerializer } from 'fabric-contract-api';
import type { ChaincodeResponse, ChaincodeStub } from 'fabric-shim-api';

import type { TestIdentity } from './certs';
import { MemoryStub, MemoryWorld } from './stub';
import type { EmittedEvent } from './stub';

interface ChaincodeLike {
  Invoke(stub: ChaincodeStub): Promise<ChaincodeResponse>;
}
type ChaincodeFromContractCtor = new (
  contracts: unknown[],
  serializers: unknown,
  metadata: object,
  title: string,
  version: string,
) => ChaincodeLike;

// Not part of the shim's public typings, but it is exactly what `fabric-chaincode-node` runs.
const load = createRequire(__filename);
const ChaincodeFromContract = load('fabric-shim/lib/contract-spi/chaincodefromcontract') as ChaincodeFromContractCtor;

/** Outcome of one transaction. */
export interface TxResult {
  readonly txId: string;
  readonly status: number;
  /** Error message (status 500) or empty. */
  readonly message: string;
  /** Response payload as UTF-8 (JSON for objects, plain for strings). */
  readonly payload: string;
  /** The transaction's event, payload parsed as JSON. */
  readonly event?: { readonly name: string; readonly payload: Record<string, unknown> };
}

/** A single-peer, single-channel in-memory ledger running the given contracts. */
export class TestLedger {
  readonly world = new MemoryWorld();
  /** Committed events, in order. */
  readonly events: EmittedEvent[] = [];
  /** Unix seconds used as the next transaction's timestamp. */
  time: number;
  readonly #chaincode: ChaincodeLike;
  #counter = 0;

  constructor(contracts: readonly unknown[], time = 1_700_000_000) {
    const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };
    this.#chaincode = new ChaincodeFromContract([...contracts], serializers, {}, 'test-chaincode', '0.0.0');
    this.time = time;
  }

  /** Endorses and, on success, commits a transaction (write set and event). */
  async submit(identity: TestIdentity, fcn: string, ...args: string[]): Promise<TxResult> {
    return this.#run(identity, fcn, args, true);
  }

  /** Evaluates a transaction without committing anything. */
  async evaluate(identity: TestIdentity, fcn: string, ...args: string[]): Promise<TxResult> {
    return this.#run(identity, fcn, args, false);
  }

  async #run(identity: TestIdentity, fcn: string, args: readonly string[], commit: boolean): Promise<TxResult> {
    this.#counter += 1;
    const txId = `tx${this.#counter.toString().padStart(6, '0')}`;
    const stub = new MemoryStub(this.world, {
      txId,
      channelId: 'dvp',
      timestamp: this.time,
      creator: { mspid: identity.mspId, idBytes: Buffer.from(identity.certPem, 'utf8') },
      args: [fcn, ...args],
    });
    const response = await this.#chaincode.Invoke(stub.asStub());
    const ok = response.status === 200;
    if (ok && commit) {
      this.world.commit(txId, this.time, stub.writes);
      if (stub.event !== undefined) this.events.push(stub.event);
    }
    const event = ok && stub.event !== undefined ? stub.event : undefined;
    return {
      txId,
      status: response.status,
      message: response.message ?? '',
      payload: response.payload === undefined ? '' : Buffer.from(response.payload).toString('utf8'),
      ...(event === undefined
        ? {}
        : {
            event: { name: event.name, payload: JSON.parse(event.payload.toString('utf8')) as Record<string, unknown> },
          }),
    };
  }
}
