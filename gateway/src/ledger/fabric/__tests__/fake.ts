/**
 * An in-process fake of the fabric-gateway client surface the Fabric connector uses (Gateway,
 * Network, Contract, Proposal, Transaction, Commit, chaincode events), over {@link FakeLedger}.
 *
 * THIS IS NOT A PEER and proves nothing about a real Fabric network: no gRPC, no peer gateway
 * service, no MSP or endorsement policy, no real protobuf envelopes (the fake's transaction bytes
 * are JSON). What is real: the securities chaincode and its fabric-contract-api dispatch, the
 * transaction ids, signatures (fabric-gateway's own private-key signer, checked against the
 * creator's certificate), the fabric-gateway error classes and status codes thrown/returned the
 * way the SDK does (EndorseError with per-peer details, CommitStatusError on a deadline), the
 * commit-status request bytes (decoded with fabric-protos, as the SDK's `newCommit` does), the
 * qscc `GetChainInfo` answer (fabric-protos `BlockchainInfo`), block numbers, MVCC validation,
 * and chaincode events delivered from their block by a stream that, like Fabric's, never ends.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Metadata, status as grpcStatus, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import {
  CommitStatusError,
  EndorseError,
  GatewayError,
  StatusCode,
  type ChaincodeEvent,
  type ChaincodeEventsOptions,
  type CloseableAsyncIterable,
  type ProposalOptions,
  type Status,
} from '@hyperledger/fabric-gateway';
import { common, gateway as gw, msp } from '@hyperledger/fabric-protos';
import type {
  FabricCommit,
  FabricContract,
  FabricGateway,
  FabricNetwork,
  FabricProposal,
  FabricTransaction,
} from '../surface';
import type { FakeIdentity } from './fake-ids';
import { envelopeBytes, FakeLedger, newTxId, type Envelope } from './fake-ledger';

export { FakeLedger } from './fake-ledger';

const PEER = { address: 'peer0.fake:7051', mspId: 'FakePeerMSP' };

function serviceError(code: grpcStatus, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${grpcStatus[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

/** The error a peer gateway gives for a chaincode rejection during evaluate. */
function evaluateError(status: number, message: string): GatewayError {
  const detail = `chaincode response ${status}, ${message}`;
  const cause = serviceError(grpcStatus.ABORTED, `evaluate call to endorser returned error: ${detail}`);
  return new GatewayError({ code: cause.code, details: [{ ...PEER, message: detail }], cause, message: cause.message });
}

/** A gateway connected as `id` to `ledger`. */
export function fakeGateway(ledger: FakeLedger, id: FakeIdentity): FabricGateway {
  return {
    getNetwork: (name) => {
      if (name !== ledger.channel) throw new Error(`no channel ${name}`);
      return new FakeNetwork(ledger, id);
    },
    newSignedTransaction: (bytes, signature) => FakeTransaction.parse(ledger, id, bytes, Buffer.from(signature)),
    newTransaction: (bytes) => FakeTransaction.parse(ledger, id, bytes),
    newCommit: (bytes) => {
      // Decoded with fabric-protos, as fabric-gateway's own newCommit does.
      const signed = gw.SignedCommitStatusRequest.deserializeBinary(bytes);
      const request = gw.CommitStatusRequest.deserializeBinary(signed.getRequest_asU8());
      const creator = msp.SerializedIdentity.deserializeBinary(request.getIdentity_asU8());
      if (request.getChannelId() !== ledger.channel) throw new Error(`no channel ${request.getChannelId()}`);
      if (creator.getMspid() !== id.mspId || Buffer.from(creator.getIdBytes_asU8()).toString() !== id.certPem)
        throw new Error('commit status request for another identity');
      return new FakeCommit(ledger, request.getTransactionId());
    },
  };
}

class FakeNetwork implements FabricNetwork {
  constructor(
    readonly ledger: FakeLedger,
    readonly id: FakeIdentity,
  ) {}

  getName(): string {
    return this.ledger.channel;
  }

  getContract(chaincodeName: string): FabricContract {
    if (chaincodeName === 'qscc') return new Qscc(this.ledger);
    if (chaincodeName !== this.ledger.chaincode) throw new Error(`no chaincode ${chaincodeName}`);
    return new FakeContract(this.ledger, this.id);
  }

  async getChaincodeEvents(
    chaincodeName: string,
    options?: ChaincodeEventsOptions,
  ): Promise<CloseableAsyncIterable<ChaincodeEvent>> {
    return chaincodeEvents(this.ledger, chaincodeName, BigInt(options?.startBlock ?? this.ledger.height));
  }
}

/** Events of valid transactions, block by block from `start`; waits for new blocks until closed. */
function chaincodeEvents(ledger: FakeLedger, chaincode: string, start: bigint): CloseableAsyncIterable<ChaincodeEvent> {
  let closed = false;
  let wake: (() => void) | undefined;
  async function* read(): AsyncGenerator<ChaincodeEvent> {
    for (let next = start; !closed;) {
      const block = ledger.blocks[Number(next)];
      if (block === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          void ledger.nextBlock().then(resolve);
        });
        continue;
      }
      for (const { envelope: env, code } of block.txs) {
        if (code !== StatusCode.VALID || env.event === undefined || env.chaincode !== chaincode) continue;
        const { name: eventName, payload } = env.event;
        yield {
          blockNumber: block.number,
          transactionId: env.txId,
          chaincodeName: chaincode,
          eventName,
          payload: Buffer.from(payload, 'base64'),
        };
        if (closed) return;
      }
      next += 1n;
    }
  }
  const it = read();
  const close = (): void => {
    closed = true;
    wake?.();
  };
  return { [Symbol.asyncIterator]: () => it, close, [Symbol.dispose]: close };
}

/** qscc, answering `GetChainInfo` and `GetTransactionByID` (found or, with the peer's message, not). */
class Qscc implements FabricContract {
  constructor(readonly ledger: FakeLedger) {}

  newProposal(): FabricProposal {
    throw new Error('qscc: only evaluate is supported by the fake');
  }

  async evaluateTransaction(name: string, ...args: string[]): Promise<Uint8Array> {
    if (name === 'GetTransactionByID' && args[0] === this.ledger.channel) {
      const txId = args[1] ?? '';
      if (this.ledger.statusOf(txId) === undefined) {
        throw evaluateError(
          500,
          `Failed to get transaction with id ${txId}, error no such transaction ID [${txId}] in index`,
        );
      }
      return new Uint8Array(); // the ProcessedTransaction itself is not read
    }
    if (name !== 'GetChainInfo' || args[0] !== this.ledger.channel)
      throw evaluateError(500, `qscc ${name}(${args.join()})`);
    const info = new common.BlockchainInfo();
    info.setHeight(Number(this.ledger.height));
    return info.serializeBinary();
  }
}

class FakeContract implements FabricContract {
  constructor(
    readonly ledger: FakeLedger,
    readonly id: FakeIdentity,
  ) {}

  newProposal(transactionName: string, options?: ProposalOptions): FabricProposal {
    const args = (options?.arguments ?? []).map((a) => (typeof a === 'string' ? a : Buffer.from(a).toString('utf8')));
    return new FakeProposal(this.ledger, this.id, transactionName, args);
  }

  async evaluateTransaction(name: string, ...args: string[]): Promise<Uint8Array> {
    const txId = newTxId(randomBytes(24), this.id);
    const sim = await this.ledger.simulate(this.id, txId, this.ledger.time, name, args);
    if (sim.status !== 200) throw evaluateError(sim.status, sim.message);
    return sim.payload;
  }
}

class FakeProposal implements FabricProposal {
  readonly #txId: string;
  readonly #timestamp: number;

  constructor(
    readonly ledger: FakeLedger,
    readonly id: FakeIdentity,
    readonly fcn: string,
    readonly args: readonly string[],
  ) {
    this.#txId = newTxId(randomBytes(24), id);
    this.#timestamp = ledger.time; // the proposal header's timestamp is taken when it is built
  }

  getTransactionId(): string {
    return this.#txId;
  }

  async endorse(): Promise<FabricTransaction> {
    const { ledger, id, fcn, args } = this;
    const sim = await ledger.simulate(id, this.#txId, this.#timestamp, fcn, args);
    if (sim.status !== 200) {
      const cause = serviceError(
        grpcStatus.ABORTED,
        'failed to endorse transaction, see attached details for more info',
      );
      const details = [{ ...PEER, message: `chaincode response ${sim.status}, ${sim.message}` }];
      throw new EndorseError({ code: cause.code, details, cause, transactionId: this.#txId, message: cause.message });
    }
    const env: Envelope = {
      txId: this.#txId,
      channel: ledger.channel,
      chaincode: ledger.chaincode,
      creator: { mspId: id.mspId, certPem: id.certPem },
      fcn,
      args,
      timestamp: this.#timestamp,
      result: sim.payload.toString('base64'),
      rwset: sim.rwset,
      ...(sim.event && { event: sim.event }),
    };
    return new FakeTransaction(ledger, id, env);
  }
}

class FakeTransaction implements FabricTransaction {
  constructor(
    readonly ledger: FakeLedger,
    readonly id: FakeIdentity,
    readonly envelope: Envelope,
    public signature: Buffer = Buffer.alloc(0),
  ) {}

  static parse(ledger: FakeLedger, id: FakeIdentity, bytes: Uint8Array, signature?: Buffer): FakeTransaction {
    const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as { envelope: Envelope; signature: string };
    return new FakeTransaction(ledger, id, parsed.envelope, signature ?? Buffer.from(parsed.signature, 'base64'));
  }

  getBytes(): Uint8Array {
    return Buffer.from(JSON.stringify({ envelope: this.envelope, signature: this.signature.toString('base64') }));
  }

  getDigest(): Uint8Array {
    return createHash('sha256').update(envelopeBytes(this.envelope)).digest();
  }

  getTransactionId(): string {
    return this.envelope.txId;
  }

  async submit(): Promise<FabricCommit> {
    // Like the SDK: an unsigned transaction is signed with the gateway's signer on submit.
    if (this.signature.length === 0) this.signature = Buffer.from(await this.id.signer(this.getDigest()));
    try {
      this.ledger.order(this.envelope, this.signature);
    } catch (err) {
      const cause = serviceError(grpcStatus.ABORTED, `failed to submit: ${(err as Error).message}`);
      throw new GatewayError({ code: cause.code, details: [], cause, message: cause.message });
    }
    return new FakeCommit(this.ledger, this.envelope.txId);
  }
}

class FakeCommit implements FabricCommit {
  constructor(
    readonly ledger: FakeLedger,
    readonly txId: string,
  ) {}

  getTransactionId(): string {
    return this.txId;
  }

  /** Like the peer: answers once the transaction is committed, waiting until `deadline` if need be. */
  async getStatus(options?: CallOptions): Promise<Status> {
    const deadline = options?.deadline === undefined ? Infinity : new Date(options.deadline).getTime();
    for (;;) {
      const found = this.ledger.statusOf(this.txId);
      if (found)
        return {
          blockNumber: found.block,
          code: found.code as Status['code'],
          successful: found.code === StatusCode.VALID,
          transactionId: this.txId,
        };
      const left = deadline - Date.now();
      if (left <= 0) {
        const cause = serviceError(grpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded');
        throw new CommitStatusError({
          code: cause.code,
          details: [],
          cause,
          transactionId: this.txId,
          message: cause.message,
        });
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(left, 2_147_483_647))));
      await Promise.race([this.ledger.nextBlock(), timeout]);
      clearTimeout(timer);
    }
  }
}
