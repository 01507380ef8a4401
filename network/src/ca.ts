/**
 * Fabric CA: one fabric-ca-server per org (the orderer org, each peer org and the agents org), TLS
 * on, loopback only, its database in the network state folder. Once a CA answers, the org's
 * bootstrap registrar is enrolled; for each peer org the bank's identities
 * ({@link PEER_ORG_IDENTITIES}, and {@link ISSUER_IDENTITY} at the issuer's org) are registered and
 * enrolled (keys generated here, only CSRs sent) into the org's wallet, and for the agents org
 * each party's ({@link AGENT_IDENTITIES}) into the party's own wallet. Each org's CA then
 * publishes a CRL at `<state>/crl/<org>.pem`, where the gateways read it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  connectCa,
  saveIdentity,
  startCaServer,
  type CaClient,
  type EnrollRequest,
  type RegisterRequest,
  type Signer,
} from '@dvp/certs';
import { orgAffiliation, type OrgConfig } from './config';
import type { CaState, ProcessRecord } from './state';

/** Names (DNS or IP) of the gateway's TLS server certificate: it listens on loopback only. */
export const GATEWAY_TLS_HOSTS: readonly string[] = ['127.0.0.1', 'localhost'];

/** An identity enrolled at network-up with role and `party` attributes. */
interface PartyIdentity {
  readonly register: Omit<RegisterRequest, 'party'>;
  readonly enroll?: Pick<EnrollRequest, 'hosts' | 'profile'>;
}

/**
 * What every party's gateway runs with: `admin` (operator), `gateway` (the gateway's messaging
 * signer and Fabric client identity), `gateway-tls` (its HTTPS server certificate, signed with
 * the CA's `tls` profile) and `auditor`.
 */
const GATEWAY_IDENTITIES: readonly PartyIdentity[] = [
  // A bank operator is a Fabric client, not an MSP admin (the org admin is `Admin@<org>`, msp.ts).
  { register: { enrollmentId: 'admin', type: 'client', role: 'operator' } },
  { register: { enrollmentId: 'gateway', type: 'client', role: 'gateway' } },
  {
    register: { enrollmentId: 'gateway-tls', type: 'client', role: 'gateway' },
    enroll: { hosts: GATEWAY_TLS_HOSTS, profile: 'tls' },
  },
  { register: { enrollmentId: 'auditor', type: 'client', role: 'auditor' } },
];

/** Every peer org's (bank's) identities, the org key as their party: the gateway's and `trader`. */
const PEER_ORG_IDENTITIES: readonly PartyIdentity[] = [
  ...GATEWAY_IDENTITIES,
  { register: { enrollmentId: 'trader', type: 'client', role: 'trader' } },
];

/**
 * Each agent party's identities, enrolled on the agents org's CA as `<party>-<name>` (one CA,
 * several parties) and kept as `<name>` in the party's own wallet ({@link agentWallet}).
 */
export const AGENT_IDENTITIES: readonly string[] = GATEWAY_IDENTITIES.map((i) => i.register.enrollmentId);

/**
 * The securities issuer, enrolled on the CA of `chaincode.issuerOrg` only: the chaincode's
 * deployed policy honours role `issuer` from that org's MSP alone (fabric.ts, `deployedPolicy`).
 */
export const ISSUER_IDENTITY: PartyIdentity = {
  register: { enrollmentId: 'issuer', type: 'client', role: 'issuer' },
};

/** The wallet of an agent party: its own folder inside the agents org's wallet. */
export function agentWallet(orgWallet: string, party: string): string {
  return join(orgWallet, party);
}

/** Which identities {@link startOrgCa} enrolls besides the registrar. */
export interface CaKind {
  readonly isPeerOrg: boolean;
  readonly isIssuerOrg: boolean;
  /** Agents org: the parties whose identities it enrolls. */
  readonly agentParties?: readonly string[];
}

export interface CaStarted {
  readonly state: CaState;
  readonly process: ProcessRecord;
}

/**
 * Starts one org's CA and enrolls its identities. `onSpawn` is told the PID as soon as the server
 * is healthy so `network-down` can stop it even if enrollment fails afterwards.
 */
export async function startOrgCa(
  org: OrgConfig,
  kind: CaKind,
  dirs: { readonly stateDir: string; readonly logDir: string },
  onSpawn: (rec: ProcessRecord) => void,
): Promise<CaState> {
  const home = join(dirs.stateDir, 'ca', org.key);
  const wallet = join(dirs.stateDir, 'wallets', org.key);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  // The registrar's secret never leaves the state folder (mode 0600) and is never logged.
  const secretFile = join(home, 'registrar.secret');
  const secret = randomBytes(18).toString('base64url');
  writeFileSync(secretFile, secret, { mode: 0o600 });
  const caName = `ca-${org.key}`;
  const log = join(dirs.logDir, `${caName}.log`);
  const server = await startCaServer({
    homeDir: home,
    caName,
    org: orgAffiliation(org),
    port: org.caPort,
    registrar: { id: 'registrar', secret: readFileSync(secretFile, 'utf8') },
    subject: { commonName: caName, organization: org.name },
    logFile: log,
  });
  onSpawn({ name: caName, pid: server.pid, log, ports: [org.caPort] });

  const client = connectCa({ url: server.url, tlsTrustedCert: readFileSync(server.tlsCertFile, 'utf8'), caName });
  const registrar = await client.enroll({ enrollmentId: 'registrar', secret });
  saveIdentity(wallet, 'registrar', org.mspId, registrar);
  const ca: RegistrarCa = { client, registrar, mspId: org.mspId };
  if (kind.isPeerOrg) {
    const identities = [...PEER_ORG_IDENTITIES, ...(kind.isIssuerOrg ? [ISSUER_IDENTITY] : [])];
    await enrollParty(ca, { party: org.key, wallet, idPrefix: '' }, identities);
  }
  await Promise.all(
    (kind.agentParties ?? []).map((party) =>
      enrollParty(ca, { party, wallet: agentWallet(wallet, party), idPrefix: `${party}-` }, GATEWAY_IDENTITIES),
    ),
  );
  const crlFile = join(dirs.stateDir, 'crl', `${org.key}.pem`);
  writeCrl(crlFile, await client.gencrl(registrar));
  return {
    org: org.key,
    mspId: org.mspId,
    url: server.url,
    caName,
    tlsCertFile: server.tlsCertFile,
    caCertFile: server.caCertFile,
    home,
    wallet,
    crlFile,
  };
}

/** A CA client with its registrar, and the MSP id its enrollments are saved under. */
interface RegistrarCa {
  readonly client: CaClient;
  readonly registrar: Signer;
  readonly mspId: string;
}

/**
 * Registers and enrolls `identities` for `party` (its `party` attribute) one after another, each
 * on the CA as `<idPrefix><name>` and into `wallet` as `<name>`.
 */
async function enrollParty(
  ca: RegistrarCa,
  to: { readonly party: string; readonly wallet: string; readonly idPrefix: string },
  identities: readonly PartyIdentity[],
): Promise<void> {
  for (const { register, enroll } of identities) {
    const enrollmentId = `${to.idPrefix}${register.enrollmentId}`;
    const { secret } = await ca.client.register(ca.registrar, { ...register, enrollmentId, party: to.party });
    const enrollment = await ca.client.enroll({ enrollmentId, secret, ...enroll });
    saveIdentity(to.wallet, register.enrollmentId, ca.mspId, enrollment);
  }
}

/**
 * Replaces a CRL file atomically (temp file + rename), so a gateway re-reading it never sees half
 * a file. Tests and operators publish a new CRL (after a revocation) the same way.
 */
export function writeCrl(file: string, pem: string): void {
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, pem);
  renameSync(tmp, file);
}

/** True when the CA answers `GET /cainfo` over TLS with its own TLS certificate trusted. */
export async function caAnswers(ca: CaState): Promise<boolean> {
  try {
    const client = connectCa({ url: ca.url, tlsTrustedCert: readFileSync(ca.tlsCertFile, 'utf8'), caName: ca.caName });
    await client.cainfo();
    return true;
  } catch {
    return false;
  }
}
