/**
 * Fabric MSP and TLS material, enrolled from each org's Fabric CA (no cryptogen, no self-made
 * certificates). For every org, under `<state>/fabric/organizations/<org>/`:
 *
 *   msp/                          the org's verifying MSP (what a channel config would carry)
 *     cacerts/ca-cert.pem         the org CA's root
 *     tlscacerts/tlsca-cert.pem   the root of the nodes' TLS certificates (the same CA, see below)
 *     config.yaml                 NodeOUs enabled: client, peer, admin, orderer from the cert's OU
 *   peers/peer0.<domain>/         (bank orgs) or  orderers/orderer0.<domain>/  (the orderer org);
 *                                 none for the agents org, which has no node
 *     msp/{signcerts/cert.pem, keystore/key_sk (0600), cacerts/, tlscacerts/, config.yaml}
 *     tls/{server.crt, server.key (0600), ca.crt}
 *   users/Admin@<domain>/msp/     the org admin (identity type `admin`, so OU=admin)
 *   users/Admin@<domain>/tls/     its TLS client certificate (client.crt, client.key, ca.crt): the
 *                                 orderer admin endpoint (osnadmin) asks for one
 *
 * Fabric CA writes the registered identity type as an OU of every certificate it issues, which is
 * what NodeOUs classify on. The node TLS certificates come from the same CA through its `tls`
 * signing profile (serverAuth + clientAuth), so their root is the CA certificate and that is what
 * `tlscacerts/` and `tls/ca.crt` hold. The CA server's own HTTPS certificate (`CaState.tlsCertFile`,
 * self-signed) is the root of no node certificate and does not belong in an MSP.
 *
 * The peers and the orderer load it as it is (fabric-config.ts points at these folders).
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  connectCa,
  loadIdentity,
  nodeOusConfig,
  type CaClient,
  type Enrollment,
  type IdentityType,
  type Signer,
} from '@dvp/certs';
import type { OrgConfig } from './config';
import type { CaState, FabricClientOrgMsp, FabricNodeMsp, FabricOrgMsp } from './state';

/** File names inside every MSP folder this module writes (relative to the MSP folder). */
export const MSP_FILES = {
  caCert: 'cacerts/ca-cert.pem',
  tlsCaCert: 'tlscacerts/tlsca-cert.pem',
  config: 'config.yaml',
  signCert: 'signcerts/cert.pem',
  key: 'keystore/key_sk',
} as const;

/** File names inside a node's `tls/` folder (the names fabric-samples use). */
export const TLS_FILES = { cert: 'server.crt', key: 'server.key', ca: 'ca.crt' } as const;

/** File names inside an admin's `tls/` folder (a TLS client certificate). */
export const TLS_CLIENT_FILES = { cert: 'client.crt', key: 'client.key', ca: 'ca.crt' } as const;

/** Enrollment id of each org's Fabric admin (type `admin`); distinct from the banks' `admin` operator. */
export const ORG_ADMIN_ID = 'orgadmin';

/** Loopback names every node TLS certificate carries besides the node's own host name. */
export const NODE_TLS_LOOPBACK: readonly string[] = ['127.0.0.1', 'localhost'];

/** The org's CA, the registrar that registers on it, and its root certificate (PEM). */
interface OrgContext {
  readonly client: CaClient;
  readonly registrar: Signer;
  readonly caCert: string;
}

function writeFile(file: string, data: string, mode: number): void {
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o755 });
  writeFileSync(file, data, { mode });
  chmodSync(file, mode);
}

const keyPem = (e: Enrollment): string => e.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** cacerts, tlscacerts and config.yaml: the part every MSP folder of the org shares. */
function writeVerifyingMsp(dir: string, caCert: string): void {
  writeFile(join(dir, MSP_FILES.caCert), caCert, 0o644);
  writeFile(join(dir, MSP_FILES.tlsCaCert), caCert, 0o644);
  writeFile(join(dir, MSP_FILES.config), nodeOusConfig(MSP_FILES.caCert), 0o644);
}

/** A signing MSP: the verifying part plus signcerts/ and keystore/ (0700, the key 0600). */
function writeSigningMsp(dir: string, caCert: string, enrollment: Enrollment): void {
  writeVerifyingMsp(dir, caCert);
  writeFile(join(dir, MSP_FILES.signCert), enrollment.certificate, 0o644);
  mkdirSync(join(dir, 'keystore'), { recursive: true, mode: 0o700 });
  writeFile(join(dir, MSP_FILES.key), keyPem(enrollment), 0o600);
}

/** Registers an identity with a fresh CA-generated secret. No role or party: Fabric roles are OUs. */
async function register(ctx: OrgContext, enrollmentId: string, type: IdentityType): Promise<string> {
  return (await ctx.client.register(ctx.registrar, { enrollmentId, type })).secret;
}

/** Registers and enrolls a peer or orderer twice: once for its MSP, once with the `tls` profile. */
async function enrollNode(ctx: OrgContext, node: FabricNodeMsp): Promise<void> {
  const secret = await register(ctx, node.enrollmentId, node.type);
  const [signing, tls] = await Promise.all([
    ctx.client.enroll({ enrollmentId: node.enrollmentId, secret }),
    ctx.client.enroll({ enrollmentId: node.enrollmentId, secret, hosts: node.tlsHosts, profile: 'tls' }),
  ]);
  writeSigningMsp(node.mspDir, ctx.caCert, signing);
  writeFile(join(node.tlsDir, TLS_FILES.cert), tls.certificate, 0o644);
  writeFile(join(node.tlsDir, TLS_FILES.key), keyPem(tls), 0o600);
  writeFile(join(node.tlsDir, TLS_FILES.ca), ctx.caCert, 0o644);
}

async function enrollAdmin(ctx: OrgContext, admin: FabricOrgMsp['admin']): Promise<void> {
  const secret = await register(ctx, ORG_ADMIN_ID, 'admin');
  const [signing, tls] = await Promise.all([
    ctx.client.enroll({ enrollmentId: ORG_ADMIN_ID, secret }),
    ctx.client.enroll({ enrollmentId: ORG_ADMIN_ID, secret, profile: 'tls' }),
  ]);
  writeSigningMsp(admin.mspDir, ctx.caCert, signing);
  writeFile(join(admin.tlsDir, TLS_CLIENT_FILES.cert), tls.certificate, 0o644);
  writeFile(join(admin.tlsDir, TLS_CLIENT_FILES.key), keyPem(tls), 0o600);
  writeFile(join(admin.tlsDir, TLS_CLIENT_FILES.ca), ctx.caCert, 0o644);
}

/** The paths {@link buildClientOrgMsp} writes for an org without a node, without touching the disk. */
export function clientOrgMspLayout(org: OrgConfig, stateDir: string): FabricClientOrgMsp {
  const root = join(stateDir, 'fabric', 'organizations', org.key);
  return {
    mspId: org.mspId,
    root,
    mspDir: join(root, 'msp'),
    admin: {
      enrollmentId: ORG_ADMIN_ID,
      mspDir: join(root, 'users', `Admin@${org.domain}`, 'msp'),
      tlsDir: join(root, 'users', `Admin@${org.domain}`, 'tls'),
    },
  };
}

/** The paths {@link buildOrgMsp} writes for an org, without touching the disk. */
export function orgMspLayout(org: OrgConfig, isPeerOrg: boolean, stateDir: string): FabricOrgMsp {
  const { root, ...rest } = clientOrgMspLayout(org, stateDir);
  const type = isPeerOrg ? 'peer' : 'orderer';
  const enrollmentId = `${type}0`;
  const host = `${enrollmentId}.${org.domain}`;
  const nodeDir = join(root, `${type}s`, host);
  return {
    ...rest,
    root,
    node: {
      host,
      enrollmentId,
      type,
      mspDir: join(nodeDir, 'msp'),
      tlsDir: join(nodeDir, 'tls'),
      tlsHosts: [...NODE_TLS_LOOPBACK, host],
    },
  };
}

/** The org's CA as {@link OrgContext}: its client, the registrar of the org's wallet, its root. */
function orgContext(ca: CaState): OrgContext {
  return {
    client: connectCa({ url: ca.url, tlsTrustedCert: readFileSync(ca.tlsCertFile, 'utf8'), caName: ca.caName }),
    registrar: loadIdentity(ca.wallet, 'registrar'),
    caCert: readFileSync(ca.caCertFile, 'utf8'),
  };
}

/**
 * Enrolls the org's node (peer0 or orderer0) and its admin from the org's running CA, through the
 * registrar in the org's wallet, and writes the layout above (replacing any previous one). Needs
 * the CA to be fresh for these enrollment ids: network-up always starts from an empty state.
 */
export async function buildOrgMsp(
  org: OrgConfig,
  isPeerOrg: boolean,
  ca: CaState,
  stateDir: string,
): Promise<FabricOrgMsp> {
  const layout = orgMspLayout(org, isPeerOrg, stateDir);
  rmSync(layout.root, { recursive: true, force: true });
  const ctx = orgContext(ca);
  writeVerifyingMsp(layout.mspDir, ctx.caCert);
  await Promise.all([enrollNode(ctx, layout.node), enrollAdmin(ctx, layout.admin)]);
  return layout;
}

/**
 * The MSP of an org without a node (the agents org): its verifying MSP, which the channel config
 * carries, and its org admin; as {@link buildOrgMsp} otherwise.
 */
export async function buildClientOrgMsp(org: OrgConfig, ca: CaState, stateDir: string): Promise<FabricClientOrgMsp> {
  const layout = clientOrgMspLayout(org, stateDir);
  rmSync(layout.root, { recursive: true, force: true });
  const ctx = orgContext(ca);
  writeVerifyingMsp(layout.mspDir, ctx.caCert);
  await enrollAdmin(ctx, layout.admin);
  return layout;
}

/**
 * A TLS server certificate for a service of the org (the chaincode server) from the org's CA:
 * `<dir>/server.crt`, `server.key` (0600), `ca.crt`. Registered as a client identity: it signs
 * nothing on the channel, it only serves TLS.
 */
export async function enrollTlsServer(
  ca: CaState,
  enrollmentId: string,
  hosts: readonly string[],
  dir: string,
): Promise<{ readonly cert: string; readonly key: string; readonly ca: string }> {
  const ctx = orgContext(ca);
  const secret = await register(ctx, enrollmentId, 'client');
  const tls = await ctx.client.enroll({ enrollmentId, secret, hosts, profile: 'tls' });
  const files = { cert: join(dir, TLS_FILES.cert), key: join(dir, TLS_FILES.key), ca: join(dir, TLS_FILES.ca) };
  writeFile(files.cert, tls.certificate, 0o644);
  writeFile(files.key, keyPem(tls), 0o600);
  writeFile(files.ca, ctx.caCert, 0o644);
  return files;
}
