/**
 * The two Fabric protobuf messages the connector builds or reads itself, with the generated
 * classes of `@hyperledger/fabric-protos` (the package fabric-gateway itself encodes with):
 *
 * - `gateway.SignedCommitStatusRequest` { bytes request = 1; bytes signature = 2; } around
 *   `gateway.CommitStatusRequest` { string transaction_id = 1; string channel_id = 2; bytes identity = 3; }
 *   with `msp.SerializedIdentity` { string mspid = 1; bytes id_bytes = 2; } as identity: what
 *   `Gateway.newCommit` parses to ask the commit status of a transaction id after a restart.
 * - `common.BlockchainInfo` { uint64 height = 1; ... }: what qscc `GetChainInfo` returns.
 *
 * The test cross-checks both against fabric-gateway and fabric-protos.
 */
import type { Identity } from '@hyperledger/fabric-gateway';
import { common, gateway, msp } from '@hyperledger/fabric-protos';

/** An unsigned `SignedCommitStatusRequest` for `txId` (the SDK signs it on `getStatus`). */
export function commitStatusRequestBytes(txId: string, channel: string, identity: Identity): Uint8Array {
  const creator = new msp.SerializedIdentity();
  creator.setMspid(identity.mspId);
  creator.setIdBytes(identity.credentials);
  const request = new gateway.CommitStatusRequest();
  request.setTransactionId(txId);
  request.setChannelId(channel);
  request.setIdentity(creator.serializeBinary());
  const signed = new gateway.SignedCommitStatusRequest();
  signed.setRequest(request.serializeBinary());
  return signed.serializeBinary();
}

/**
 * The `height` of a serialized `BlockchainInfo` (blocks 0 .. height-1 exist). fabric-protos reads
 * uint64 as a JS number: a height past 2^53 - 1, which no ledger reaches, throws rather than
 * being rounded.
 */
export function chainHeight(bytes: Uint8Array): bigint {
  const height = common.BlockchainInfo.deserializeBinary(bytes).getHeight();
  if (!Number.isSafeInteger(height)) throw new Error(`BlockchainInfo height ${height} is not exact`);
  return BigInt(height);
}
