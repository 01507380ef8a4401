/**
 * The signed party directory of the local network (DESIGN.md section 1): for each bank and each
 * party of the agents org (escrow manager, notary, observer), its MSP id, the fingerprints of the
 * certificates enrolled for it at network-up, its EVM address, its gateway URL and its chaincode
 * account, signed by a directory authority key generated here. Gateways load it and reject a
 * request whose claimed party does not match its certificate.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  certificateFingerprint,
  fabricAccountId,
  loadIdentity,
  signDirectory,
  verifyDirectory,
  type Directory,
  type DirectoryEntry,
  type SignedDirectory,
} from '@dvp/certs';
import type { NetworkConfig } from './config';
import type { AgentsState, CaState } from './state';

export interface DirectoryState {
  /** The signed directory (`SignedDirectory` of @dvp/certs). */
  readonly file: string;
  /** PEM public key of the directory authority, the trust anchor for `file`. */
  readonly authorityPublicKeyFile: string;
}

/**
 * Identities whose certificates the directory lists for each bank: a gateway admits a client
 * certificate only if its fingerprint is listed under the party its `party` attribute names.
 * `gateway-tls` is a server certificate and is not listed.
 */
export const LISTED_IDENTITIES = ['admin', 'gateway', 'auditor', 'trader'] as const;

/** The same for each party of the agents org, which has no trader. */
export const LISTED_AGENT_IDENTITIES = ['admin', 'gateway', 'auditor'] as const;

/** The identities the directory is made from: every org's CA, and the agents org's parties. */
export interface DirectorySources {
  readonly cas: Readonly<Record<string, CaState>>;
  readonly agents: AgentsState;
}

/** One party's entry: its listed certificates, EVM address, gateway URL and chaincode account. */
function entryOf(
  party: string,
  id: { readonly mspId: string; readonly wallet: string; readonly listed: readonly string[] },
  evmAddress: `0x${string}` | undefined,
  gatewayPort: number | undefined,
): DirectoryEntry {
  if (!evmAddress || gatewayPort === undefined)
    throw new Error(`directory: party ${party} needs an evmAccount and a gatewayPort in network.config.json`);
  return {
    mspId: id.mspId,
    certificateFingerprints: id.listed.map((name) => certificateFingerprint(loadIdentity(id.wallet, name).certificate)),
    evmAddress,
    gatewayUrl: `https://127.0.0.1:${gatewayPort}`,
    // The gateway signs Fabric transactions with its `gateway` identity: securities are held there.
    fabricAccount: fabricAccountId(id.mspId, loadIdentity(id.wallet, 'gateway').certificate),
  };
}

/** Every party's entry: each bank's (org key = party), then each party of the agents org. */
function partiesOf(
  cfg: NetworkConfig,
  { cas, agents }: DirectorySources,
  evmAccounts: readonly `0x${string}`[],
): Record<string, DirectoryEntry> {
  const parties: Record<string, DirectoryEntry> = {};
  for (const org of cfg.peerOrgs) {
    const ca = cas[org.key];
    if (!ca) throw new Error(`directory: no CA for org ${org.key}`);
    const id = { mspId: org.mspId, wallet: ca.wallet, listed: LISTED_IDENTITIES };
    parties[org.key] = entryOf(org.key, id, evmAccounts[org.evmAccount ?? -1], org.gatewayPort);
  }
  for (const p of cfg.agentsOrg.parties) {
    const wallet = agents.parties[p.key]?.wallet;
    if (!wallet) throw new Error(`directory: no wallet for agent party ${p.key}`);
    const id = { mspId: agents.mspId, wallet, listed: LISTED_AGENT_IDENTITIES };
    parties[p.key] = entryOf(p.key, id, evmAccounts[p.evmAccount], p.gatewayPort);
  }
  return parties;
}

export function writeDirectory(
  cfg: NetworkConfig,
  sources: DirectorySources,
  evmAccounts: readonly `0x${string}`[],
  stateDir: string,
): DirectoryState {
  const parties = partiesOf(cfg, sources, evmAccounts);
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

/** The directory authority's private key, kept beside the directory (mode 0600). */
export function authorityKeyFile(directoryFile: string): string {
  return join(dirname(directoryFile), 'authority-key.pem');
}

/**
 * Re-signs the local directory after `change` (e.g. a new operator's fingerprint added or a
 * revoked one removed), with an `issuedAt` never older than the current one (gateways refuse a
 * rollback), and replaces the file atomically. Returns the new directory.
 */
export function updateDirectory(directory: DirectoryState, change: (current: Directory) => Directory): Directory {
  const current = verifyDirectory(
    JSON.parse(readFileSync(directory.file, 'utf8')) as SignedDirectory,
    readFileSync(directory.authorityPublicKeyFile, 'utf8'),
  );
  const changed = change(current);
  const next: Directory = {
    ...changed,
    issuedAt: Math.max(Math.floor(Date.now() / 1000), current.issuedAt),
  };
  const key = createPrivateKey(readFileSync(authorityKeyFile(directory.file), 'utf8'));
  const tmp = `${directory.file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(signDirectory(next, key), null, 2)}\n`);
  renameSync(tmp, directory.file);
  return next;
}
