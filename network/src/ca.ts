/**
 * Fabric CA: one fabric-ca-server per org (the orderer org and each peer org), TLS on, loopback
 * only, its database in the network state folder. Once a CA answers, the org's bootstrap
 * registrar is enrolled, and for each peer org the bank's identities ({@link PEER_ORG_IDENTITIES},
 * and {@link ISSUER_IDENTITY} at the issuer's org) are registered and enrolled (keys generated here, only CSRs sent) into the org's wallet. Each
 * org's CA then publishes a CRL at `<state>/crl/<org>.pem`, where the gateways read it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectCa, saveIdentity, startCaServer, type EnrollRequest, type RegisterRequest } from '@dvp/certs';
import { orgAffiliation, type OrgConfig } from './config';
import type { CaState, ProcessRecord } from './state';

/** Names (DNS or IP) of the gateway's TLS server certificate: it listens on loopback only. */
export const GATEWAY_TLS_HOSTS: readonly string[] = ['127.0.0.1', 'localhost'];

/** An identity enrolled for every peer org at network-up (the org key is its party). */
interface BankIdentity {
  readonly register: Omit<RegisterRequest, 'party'>;
  readonly enroll?: Pick<EnrollRequest, 'hosts' | 'profile'>;
}

/**
 * `admin` (operator), `gateway` (the gateway's client identity), `gateway-tls` (its HTTPS server
 * certificate, signed with the CA's `tls` profile), `auditor` and `trader`.
 */
const PEER_ORG_IDENTITIES: readonly BankIdentity[] = [
  // A bank operator is a Fabric client, not an MSP admin (the org admin is `Admin@<org>`, msp.ts).
  { register: { enrollmentId: 'admin', type: 'client', role: 'operator' } },
  { register: { enrollmentId: 'gateway', type: 'client', role: 'gateway' } },
  {
    register: { enrollmentId: 'gateway-tls', type: 'client', role: 'gateway' },
    enroll: { hosts: GATEWAY_TLS_HOSTS, profile: 'tls' },
  },
  { register: { enrollmentId: 'auditor', type: 'client', role: 'auditor' } },
  { register: { enrollmentId: 'trader', type: 'client', role: 'trader' } },
];

/**
 * The securities issuer, enrolled on the CA of `chaincode.issuerOrg` only: the chaincode's
 * deployed policy honours role `issuer` from that org's MSP alone (fabric.ts, `deployedPolicy`).
 */
export const ISSUER_IDENTITY: BankIdentity = {
  register: { enrollmentId: 'issuer', type: 'client', role: 'issuer' },
};

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
  kind: { readonly isPeerOrg: boolean; readonly isIssuerOrg: boolean },
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
  if (kind.isPeerOrg) {
    const identities = [...PEER_ORG_IDENTITIES, ...(kind.isIssuerOrg ? [ISSUER_IDENTITY] : [])];
    for (const { register, enroll } of identities) {
      const { secret: s } = await client.register(registrar, { ...register, party: org.key });
      const enrollment = await client.enroll({ enrollmentId: register.enrollmentId, secret: s, ...enroll });
      saveIdentity(wallet, register.enrollmentId, org.mspId, enrollment);
    }
  }
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
