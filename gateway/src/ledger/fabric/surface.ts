/**
 * The part of the `@hyperledger/fabric-gateway` client API the Fabric connector uses, as
 * structural interfaces: a real `Gateway` from `connect()` satisfies {@link FabricGateway} (the
 * test checks it), and so does the in-process fake the tests use.
 */
import type { CallOptions } from '@grpc/grpc-js';
import type {
  ChaincodeEvent,
  ChaincodeEventsOptions,
  CloseableAsyncIterable,
  Identity,
  ProposalOptions,
  Status,
} from '@hyperledger/fabric-gateway';
import { fabricAccountId } from '@dvp/certs';

/** The commit status of one transaction (fabric-gateway `Commit`). */
export interface FabricCommit {
  getStatus(options?: CallOptions): Promise<Status>;
  getTransactionId(): string;
}
/** An endorsed transaction (fabric-gateway `Transaction`). */
export interface FabricTransaction {
  getBytes(): Uint8Array;
  getDigest(): Uint8Array;
  getTransactionId(): string;
  submit(options?: CallOptions): Promise<FabricCommit>;
}
/** A transaction proposal (fabric-gateway `Proposal`). */
export interface FabricProposal {
  getTransactionId(): string;
  endorse(options?: CallOptions): Promise<FabricTransaction>;
}
/** A chaincode (fabric-gateway `Contract`). */
export interface FabricContract {
  newProposal(transactionName: string, options?: ProposalOptions): FabricProposal;
  evaluateTransaction(name: string, ...args: string[]): Promise<Uint8Array>;
}
/** A channel (fabric-gateway `Network`). */
export interface FabricNetwork {
  getName(): string;
  getContract(chaincodeName: string): FabricContract;
  getChaincodeEvents(
    chaincodeName: string,
    options?: ChaincodeEventsOptions,
  ): Promise<CloseableAsyncIterable<ChaincodeEvent>>;
}
/** The part of a fabric-gateway `Gateway` (from `connect()`) the connector uses. */
export interface FabricGateway {
  getNetwork(channelName: string): FabricNetwork;
  newSignedTransaction(bytes: Uint8Array, signature: Uint8Array): FabricTransaction;
  newTransaction(bytes: Uint8Array): FabricTransaction;
  newCommit(bytes: Uint8Array): FabricCommit;
}

/**
 * The chaincode's identity-bound account of `identity`, e.g. `SellerBankMSP:/OU=client/OU=seller/CN=trader`:
 * {@link fabricAccountId}, which forms the subject exactly as fabric-shim's `getID()` does on the
 * peer (one `/OU=` per value of Fabric CA's multi-valued OU RDN, only the first `/` of a value
 * escaped), so the connector names the account the chaincode binds to this identity.
 */
export function fabricAccountOf(identity: Identity): string {
  return fabricAccountId(identity.mspId, identity.credentials);
}
