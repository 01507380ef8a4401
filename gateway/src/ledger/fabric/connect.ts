/**
 * Connects the gateway process to its bank's Fabric peer: a gRPC channel over TLS, a
 * fabric-gateway `connect()` with the gateway's Fabric identity (its `gateway` certificate and
 * key), and the {@link createFabricConnector | Fabric connector} over it. The only file of the
 * process that dials a peer.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, signers } from '@hyperledger/fabric-gateway';
import type { FabricConfig } from '../../config/config';
import type { CheckpointStore } from '../connector';
import { createFabricConnector, type FabricLedgerConnector } from './connector';

/** A connected Fabric ledger; `close()` ends the gateway and its channel. */
export interface FabricLedger {
  readonly connector: FabricLedgerConnector;
  close(): void;
}

/** What {@link connectFabricLedger} needs: the fabric section with its peer, channel and chaincode. */
export type FabricLedgerConfig = FabricConfig & {
  readonly peer: NonNullable<FabricConfig['peer']>;
  readonly channel: string;
  readonly chaincode: string;
};

/** Connects (lazily: the first call dials the peer) and builds the connector. */
export function connectFabricLedger(config: FabricLedgerConfig, followers: CheckpointStore): FabricLedger {
  const { peer } = config;
  const client = new grpc.Client(peer.endpoint, grpc.credentials.createSsl(readFileSync(peer.tlsCaCertFile)), {
    ...(peer.hostOverride && { 'grpc.ssl_target_name_override': peer.hostOverride }),
  });
  const identity = { mspId: config.mspId, credentials: readFileSync(config.certFile) };
  // The key is read once here and kept only inside the signer; it is never logged.
  const signer = signers.newPrivateKeySigner(createPrivateKey(readFileSync(config.keyFile)));
  const gateway = connect({
    client,
    identity,
    signer,
    hash: hash.sha256,
    evaluateOptions: () => ({ deadline: Date.now() + 10_000 }),
    endorseOptions: () => ({ deadline: Date.now() + 30_000 }),
    submitOptions: () => ({ deadline: Date.now() + 10_000 }),
    commitStatusOptions: () => ({ deadline: Date.now() + 60_000 }),
  });
  const connector = createFabricConnector({
    gateway,
    identity,
    signer,
    channel: config.channel,
    chaincode: config.chaincode,
    followers,
  });
  return {
    connector,
    close: () => {
      gateway.close();
      client.close();
    },
  };
}
