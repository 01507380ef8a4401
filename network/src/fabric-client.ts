/**
 * A Fabric client of the local network through `@hyperledger/fabric-gateway`: a connection to one
 * bank's peer as one of its identities (a wallet folder holding `cert.pem` and `key.pem`, or an
 * MSP folder). network-up uses it to wait until every peer's discovery sees every org; the tests
 * use it to submit and evaluate as any identity.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, signers, type Contract, type Gateway } from '@hyperledger/fabric-gateway';
import { createPrivateKey } from 'node:crypto';
import type { FabricPeerState, FabricUpState } from './state';

/** A signing identity: MSP id, certificate and private key (PEM). */
export interface FabricClientIdentity {
  readonly mspId: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** A wallet identity (`<wallet>/<name>/cert.pem`, `key.pem`). */
export function walletIdentity(mspId: string, wallet: string, name: string): FabricClientIdentity {
  return {
    mspId,
    certPem: readFileSync(join(wallet, name, 'cert.pem'), 'utf8'),
    keyPem: readFileSync(join(wallet, name, 'key.pem'), 'utf8'),
  };
}

/** An MSP folder's signing identity (`signcerts/*`, `keystore/*`), e.g. an org admin's. */
export function mspIdentity(mspId: string, mspDir: string): FabricClientIdentity {
  const one = (dir: string): string => {
    const name = readdirSync(join(mspDir, dir))[0];
    if (!name) throw new Error(`${mspDir}/${dir} is empty`);
    return readFileSync(join(mspDir, dir, name), 'utf8');
  };
  return { mspId, certPem: one('signcerts'), keyPem: one('keystore') };
}

/** An open connection; `close()` ends the gateway and its gRPC channel. */
export interface FabricConnection {
  readonly gateway: Gateway;
  contract(channel: string, chaincode: string): Contract;
  close(): void;
}

/** Connects to `peer` over TLS as `id`. */
export function connectPeer(peer: FabricPeerState, id: FabricClientIdentity): FabricConnection {
  const client = new grpc.Client(peer.address, grpc.credentials.createSsl(readFileSync(peer.tlsCaCertFile)), {
    'grpc.ssl_target_name_override': peer.host,
  });
  const gateway = connect({
    client,
    identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) },
    signer: signers.newPrivateKeySigner(createPrivateKey(id.keyPem)),
    hash: hash.sha256,
    evaluateOptions: () => ({ deadline: Date.now() + 10_000 }),
    endorseOptions: () => ({ deadline: Date.now() + 30_000 }),
    submitOptions: () => ({ deadline: Date.now() + 10_000 }),
    commitStatusOptions: () => ({ deadline: Date.now() + 60_000 }),
  });
  return {
    gateway,
    contract: (channel, chaincode) => gateway.getNetwork(channel).getContract(chaincode),
    close: () => {
      gateway.close();
      client.close();
    },
  };
}

/**
 * Resolves once an endorsement through each bank's peer gathers every org's endorsement (the
 * chaincode's policy): only then does the peer's discovery know the other orgs' peers, which
 * takes a few seconds of gossip after the channel is joined. Nothing is submitted.
 */
export async function waitEndorsable(
  fabric: FabricUpState,
  identities: Readonly<Record<string, FabricClientIdentity>>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    Object.entries(fabric.peers).map(async ([org, peer]) => {
      const id = identities[org];
      if (!id) throw new Error(`no identity to probe the peer of ${org}`);
      const conn = connectPeer(peer, id);
      try {
        for (let attempt = 1; ; attempt += 1) {
          try {
            await conn.contract(fabric.channel, fabric.chaincode.name).newProposal('GetPolicy').endorse();
            return;
          } catch (err) {
            if (Date.now() > deadline)
              throw new Error(`peer of ${org}: cannot gather every org's endorsement after ${attempt} tries`, {
                cause: err,
              });
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      } finally {
        conn.close();
      }
    }),
  );
}
