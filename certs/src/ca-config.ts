/**
 * The fabric-ca-server configuration we write for each org (our own, minimal, explicit), and the
 * self-signed TLS certificate its HTTPS listener presents. Every string goes through JSON.stringify,
 * which yields valid YAML double-quoted scalars, so no value can break the document.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, privateKeyToPem, x509 } from './crypto';

/** What the config file needs; a subset of {@link CaServerOptions}, resolved. */
export interface CaConfigInput {
  readonly caName: string;
  readonly port: number;
  readonly operationsAddress: string;
  readonly org: string;
  readonly affiliations: readonly string[];
  readonly registrar: { readonly id: string; readonly secret: string };
  readonly csr: { readonly commonName: string; readonly organization: string; readonly country: string };
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly crlExpiry: string;
  readonly certExpiry: string;
}

const q = (s: string): string => JSON.stringify(s);

/** Renders `fabric-ca-server-config.yaml`. Loopback only, TLS on, sqlite, metrics off. */
export function renderCaConfig(c: Readonly<CaConfigInput>): string {
  return [
    '# Written by @dvp/certs (startCaServer) on every start; edits are overwritten.\n',
    listenerSection(c),
    registrySection(c),
    storageSection(c),
    signingSection(c),
    csrSection(c),
    runtimeSection(c),
  ].join('');
}

/** The HTTPS listener (loopback, TLS with our self-signed certificate), the CA's name and its CRL. */
function listenerSection(c: Readonly<CaConfigInput>): string {
  return `version: "1.5.21"
port: ${c.port}
address: "127.0.0.1"
debug: false
crlsizelimit: 512000
cors:
  enabled: false
tls:
  enabled: true
  certfile: ${q(c.tlsCertFile)}
  keyfile: ${q(c.tlsKeyFile)}
  clientauth:
    type: noclientcert
ca:
  name: ${q(c.caName)}
  certfile: ca-cert.pem
  reenrollIgnoreCertExpiry: false
crl:
  expiry: ${q(c.crlExpiry)}
`;
}

/** The bootstrap registrar, the one identity the CA database starts with. */
function registrySection(c: Readonly<CaConfigInput>): string {
  return `registry:
  maxenrollments: -1
  identities:
    - name: ${q(c.registrar.id)}
      pass: ${q(c.registrar.secret)}
      # type client: the registrar only registers and revokes; it is no MSP admin of its org (the org
      # admin is Admin@<domain>, enrolled with type admin).
      type: client
      affiliation: ${q(c.org)}
      attrs:
        hf.Registrar.Roles: "client,peer,admin,orderer"
        hf.Registrar.DelegateRoles: "client,peer,admin,orderer"
        hf.Registrar.Attributes: "*"
        hf.Revoker: true
        hf.GenCRL: true
        hf.IntermediateCA: false
        hf.AffiliationMgr: true
`;
}

/** The sqlite database, no LDAP, and the org's affiliation tree (the org, one level of sub-units). */
function storageSection(c: Readonly<CaConfigInput>): string {
  const subUnits = c.affiliations.map((a) => `\n    - ${q(a)}`).join('');
  return `db:
  type: sqlite3
  datasource: fabric-ca-server.db
ldap:
  enabled: false
affiliations:
  ${q(c.org)}:${subUnits || ' []'}
`;
}

/** Signing: enrollment certificates by default, plus the `ca` and `tls` profiles. */
function signingSection(c: Readonly<CaConfigInput>): string {
  return `signing:
  default:
    usage:
      - digital signature
    expiry: ${q(c.certExpiry)}
  profiles:
    ca:
      usage:
        - cert sign
        - crl sign
      expiry: 43800h
      caconstraint:
        isca: true
        maxpathlen: 0
    tls:
      usage:
        - signing
        - key encipherment
        - server auth
        - client auth
        - key agreement
      expiry: ${q(c.certExpiry)}
`;
}

/** The subject and key of the CA's own certificate. */
function csrSection(c: Readonly<CaConfigInput>): string {
  return `csr:
  cn: ${q(c.csr.commonName)}
  keyrequest:
    algo: ecdsa
    size: 256
  names:
    - C: ${q(c.csr.country)}
      O: ${q(c.csr.organization)}
  hosts:
    - localhost
    - 127.0.0.1
  ca:
    expiry: 131400h
    pathlength: 1
`;
}

/** Software crypto, password attempts, the operations listener, metrics off. */
function runtimeSection(c: Readonly<CaConfigInput>): string {
  return `bccsp:
  default: SW
  sw:
    hash: SHA2
    security: 256
    filekeystore:
      keystore: msp/keystore
cfg:
  identities:
    passwordattempts: 10
operations:
  listenAddress: ${q(c.operationsAddress)}
  tls:
    enabled: false
metrics:
  provider: disabled
`;
}

/**
 * Ensures `<dir>/tls-cert.pem` and `<dir>/tls-key.pem` exist: a self-signed P-256 certificate for
 * localhost/127.0.0.1. Self-signed so that clients can trust exactly this file. Kept across restarts.
 */
export async function ensureTlsCertificate(
  dir: string,
  commonName: string,
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, 'tls-cert.pem');
  const keyFile = join(dir, 'tls-key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = await generateKeyPair();
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    name: [{ CN: [commonName] }],
    notBefore,
    notAfter: new Date(notBefore.getTime() + 5 * 365 * 24 * 3600 * 1000),
    keys: keys.webKeys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.webKeys.publicKey),
    ],
  });
  writeFileSync(keyFile, privateKeyToPem(keys.privateKey), { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, cert.toString('pem') + '\n', { mode: 0o644 });
  return { certFile, keyFile };
}

/**
 * The MSP `config.yaml` enabling NodeOUs for an org whose CA is this one: Fabric CA writes the
 * identity type (client/peer/admin/orderer) as an OU of every enrollment certificate, so the MSP can
 * classify identities by OU. `caCertPath` is relative to the MSP folder (e.g. `cacerts/ca-cert.pem`).
 */
export function nodeOusConfig(caCertPath: string): string {
  const ou = (name: string) =>
    `  ${name[0]?.toUpperCase()}${name.slice(1)}OUIdentifier:\n    Certificate: ${q(caCertPath)}\n    OrganizationalUnitIdentifier: ${name}\n`;
  return `NodeOUs:\n  Enable: true\n${['client', 'peer', 'admin', 'orderer'].map(ou).join('')}`;
}
