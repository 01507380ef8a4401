/**
 * The signed party directory of the local network (DESIGN.md section 1): for each bank, its MSP
 * id, the fingerprints of the certificates enrolled for it at network-up, its EVM address and its
 * gateway URL, signed by a directory authority key generated here. Gateways load it and reject a
 * request whose claimed party does not match its certificate.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateFingerprint, loadIdentity, signDirectory, type DirectoryEntry } from '@dvp/certs';
import type { NetworkConfig } from './config';
import type { CaState } from './state';

export interface DirectoryState {
  /** The signed directory (`SignedDirectory` of @dvp/certs). */
  readonly file: string;
  /** PEM public key of the directory authority, the trust anchor for `file`. */
  readonly authorityPublicKeyFile: string;
}

/** Identities whose certificates the directory lists for each bank. */
const LISTED = ['admin', 'gateway'] as const;

export function writeDirectory(
  cfg: NetworkConfig,
  cas: Readonly<Record<string, CaState>>,
  evmAccounts: readonly `0x${string}`[],
  stateDir: string,
): DirectoryState {
  const parties: Record<string, DirectoryEntry> = {};
  for (const org of cfg.peerOrgs) {
    const ca = cas[org.key];
    const evmAddress = evmAccounts[org.evmAccount ?? -1];
    if (!ca || !evmAddress || org.gatewayPort === undefined) {
      throw new Error(`directory: org ${org.key} needs a CA, an evmAccount and a gatewayPort in network.config.json`);
    }
    parties[org.key] = {
      mspId: org.mspId,
      certificateFingerprints: LISTED.map((name) => certificateFingerprint(loadIdentity(ca.wallet, name).certificate)),
      evmAddress,
      gatewayUrl: `https://127.0.0.1:${org.gatewayPort}`,
    };
  }
  const dir = join(stateDir, 'directory');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // The authority's private key is only needed to sign; it never reaches the gateways.
  writeFileSync(join(dir, 'authority-key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const authorityPublicKeyFile = join(dir, 'authority-public-key.pem');
  writeFileSync(authorityPublicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  const file = join(dir, 'directory.json');
  const signed = signDirectory({ version: 1, issuedAt: Math.floor(Date.now() / 1000), parties }, privateKey);
  writeFileSync(file, `${JSON.stringify(signed, null, 2)}\n`);
  return { file, authorityPublicKeyFile };
}
