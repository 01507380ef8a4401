/**
 * The gateway's trust material, loaded once at start-up before anything that needs it is built:
 * the trust anchors (CA certificates per MSP), their CRLs and the signed party directory (both
 * re-read on timers), and the identity verifier over them. A file that cannot be used throws with
 * its name.
 */
import { readFileSync } from 'node:fs';
import type { GatewayConfig } from '../config/config';
import type { Logger } from '../core/log';
import { createDirectoryStore, type DirectoryStore } from './directory';
import { createIdentityVerifier, trustAnchor, type IdentityVerifier, type TrustAnchor } from './identity';
import { createRevocationStore, type RevocationStore } from './revocation';

/** Loaded trust material; `close` stops the reload timers. */
export interface TrustMaterial {
  readonly anchors: readonly TrustAnchor[];
  readonly revocation: RevocationStore;
  readonly directory: DirectoryStore;
  readonly identity: IdentityVerifier;
  /** Re-reads CRLs and directory now (the timers do it periodically anyway). */
  reload(): Promise<void>;
  close(): void;
}

function loadAnchors(config: GatewayConfig): TrustAnchor[] {
  return config.trustAnchors.map((a) => {
    try {
      return trustAnchor(a.mspId, readFileSync(a.certFile, 'utf8'));
    } catch (err) {
      throw new Error(`trust anchor '${a.certFile}': ${(err as Error).message}`, { cause: err });
    }
  });
}

/** Loads anchors, CRLs and directory named in `config` and builds the identity verifier. */
export async function loadTrustMaterial(
  config: GatewayConfig,
  logger: Logger,
  now: () => Date = () => new Date(),
): Promise<TrustMaterial> {
  const anchors = loadAnchors(config);
  const revocation = await createRevocationStore({
    files: config.crl.files,
    anchors,
    reloadIntervalMs: config.crl.reloadIntervalSeconds * 1000,
    requireForEveryAnchor: config.crl.requireForEveryAnchor,
    logger,
  });
  let directory: DirectoryStore;
  try {
    directory = createDirectoryStore({
      file: config.directory.file,
      authorityKeyPem: readFileSync(config.directory.authorityKeyFile, 'utf8'),
      reloadIntervalMs: config.directory.reloadIntervalSeconds * 1000,
      logger,
    });
  } catch (err) {
    revocation.close();
    throw err;
  }
  const identity = createIdentityVerifier({ anchors, revocation, directory, servedParty: config.partyId, now });
  return {
    anchors,
    revocation,
    directory,
    identity,
    reload: async () => {
      directory.reload();
      await revocation.reload();
    },
    close: () => {
      revocation.close();
      directory.close();
    },
  };
}
