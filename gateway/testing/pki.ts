/**
 * Test-only PKI for the HTTP layer: real fabric-ca-server CAs on free loopback ports in a temp
 * folder (through `@dvp/certs`), an in-memory CA able to issue certificates with any dates and
 * extensions (expired, wrong usage...), a server TLS certificate for 127.0.0.1, and a signed
 * directory. Never use in product code.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { generateKeyPair as nodeGenerateKeyPair, webcrypto, type KeyObject } from 'node:crypto';
import {
  FABRIC_ATTRS_OID,
  connectCa,
  generateKeyPair,
  signDirectory,
  startCaServer,
  stopProcess,
  type CaClient,
  type Directory,
  type Enrollment,
  type Role,
} from '@dvp/certs';
import { freePort } from '@dvp/certs';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A temp folder, removed by `remove()`. */
export function tempDir(prefix = 'dvp-gateway-http-'): { readonly dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a file atomically (temp + rename), as a CRL publisher would. */
export function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** A real fabric-ca-server for one bank, with its registrar enrolled. */
export interface BankCa {
  readonly org: string;
  readonly caCertPem: string;
  readonly client: CaClient;
  /** Registers and enrolls a client identity with role and party attributes. */
  enroll(enrollmentId: string, role: Role, party: string): Promise<Enrollment>;
  /** Revokes every certificate of the identity; returns the fresh CRL (PEM). */
  revoke(enrollmentId: string): Promise<string>;
  gencrl(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a throw-away CA for `org` in `dir` on free ports. */
export async function startBankCa(dir: string, org: string): Promise<BankCa> {
  const registrarCreds = { id: 'registrar', secret: `registrar-${org}-pw` };
  const handle = await startCaServer({
    homeDir: join(dir, `ca-${org}`),
    caName: `ca-${org}`,
    org,
    port: await freePort(),
    operationsPort: await freePort(),
    registrar: registrarCreds,
    logFile: join(dir, 'logs', `ca-${org}.log`),
  });
  try {
    const client = connectCa({
      url: handle.url,
      tlsTrustedCert: readFileSync(handle.tlsCertFile, 'utf8'),
      caName: `ca-${org}`,
    });
    const registrar = await client.enroll({ enrollmentId: registrarCreds.id, secret: registrarCreds.secret });
    return {
      org,
      caCertPem: readFileSync(handle.caCertFile, 'utf8'),
      client,
      async enroll(enrollmentId, role, party) {
        const { secret } = await client.register(registrar, {
          enrollmentId,
          type: 'client',
          affiliation: `${org}.operations`,
          role,
          party,
        });
        return client.enroll({ enrollmentId, secret });
      },
      revoke: async (enrollmentId) =>
        (await client.revoke(registrar, { enrollmentId }, 'keycompromise', true)).crl ?? '',
      gencrl: () => client.gencrl(registrar),
      stop: async () => void (await stopProcess(handle.pid)),
    };
  } catch (err) {
    await stopProcess(handle.pid);
    throw err;
  }
}

/** Options for a certificate from the in-memory CA. */
export interface LocalIssueOptions {
  readonly attrs?: Readonly<Record<string, string>>;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Default digitalSignature. */
  readonly keyUsage?: x509.KeyUsageFlags;
  readonly extendedKeyUsage?: readonly string[];
}

/** A PEM certificate and its PKCS#8 PEM key. */
export interface CertAndKey {
  readonly cert: string;
  readonly key: string;
}

/** An in-memory CA: issues certificates with any dates/extensions and signs CRLs. */
export interface LocalCa {
  readonly certPem: string;
  issue(cn: string, opts?: LocalIssueOptions): Promise<CertAndKey>;
  crl(revokedSerials?: readonly string[]): Promise<string>;
}

const pkcs8 = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Creates an in-memory CA named `CN=<name>`. */
export async function createLocalCa(name: string): Promise<LocalCa> {
  const caKeys = await generateKeyPair();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys: caKeys.webKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  let serial = 0x10;
  return {
    certPem: caCert.toString('pem'),
    async issue(cn, opts = {}) {
      const keys = await generateKeyPair();
      const extensions: x509.Extension[] = [
        new x509.KeyUsagesExtension(opts.keyUsage ?? x509.KeyUsageFlags.digitalSignature, true),
        new x509.Extension(FABRIC_ATTRS_OID, false, Buffer.from(JSON.stringify({ attrs: opts.attrs ?? {} }))),
      ];
      if (opts.extendedKeyUsage) extensions.push(new x509.ExtendedKeyUsageExtension([...opts.extendedKeyUsage]));
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, '0'),
        subject: `CN=${cn}, OU=client`,
        issuer: caCert.subject,
        notBefore: opts.notBefore ?? new Date(Date.now() - 60_000),
        notAfter: opts.notAfter ?? new Date(Date.now() + 86_400_000),
        publicKey: keys.webKeys.publicKey,
        signingKey: caKeys.webKeys.privateKey,
        signingAlgorithm: ALG,
        extensions,
      });
      return { cert: cert.toString('pem'), key: pkcs8(keys.privateKey) };
    },
    async crl(revokedSerials = []) {
      const crl = await x509.X509CrlGenerator.create({
        issuer: caCert.subject,
        thisUpdate: new Date(Date.now() - 60_000),
        nextUpdate: new Date(Date.now() + 86_400_000),
        entries: revokedSerials.map((serialNumber) => ({ serialNumber, revocationDate: new Date() })),
        signingKey: caKeys.webKeys.privateKey,
        signingAlgorithm: ALG,
      });
      return crl.toString('pem');
    },
  };
}

/** A self-signed server certificate for 127.0.0.1/localhost (the client trusts exactly it). */
export async function serverCertificate(): Promise<CertAndKey> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '02',
    name: 'CN=dvp-gateway-test',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys: keys.webKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  return { cert: cert.toString('pem'), key: pkcs8(keys.privateKey) };
}

/** A directory authority key pair; `write` signs a directory into a file. */
export async function directoryAuthority(): Promise<{
  readonly publicKeyPem: string;
  write(file: string, d: Directory): void;
}> {
  const { privateKey, publicKey } = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>(
    (resolve, reject) =>
      nodeGenerateKeyPair('ec', { namedCurve: 'prime256v1' }, (err, pub, priv) =>
        err ? reject(err) : resolve({ publicKey: pub, privateKey: priv }),
      ),
  );
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    write: (file, d) => writeAtomic(file, JSON.stringify(signDirectory(d, privateKey), null, 2)),
  };
}
