/** Test helpers: free loopback ports, a real fabric-ca-server in a temp dir, locally made certificates. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCaServer, stopProcess, type CaServerHandle } from '../ca-server';
import { FABRIC_ATTRS_OID } from '../attributes';
import { generateKeyPair, privateKeyToPem, x509 } from '../crypto';
import { freePort } from '../net';

export interface TestCa {
  readonly dir: string;
  readonly handle: CaServerHandle;
  readonly caName: string;
  readonly registrar: { id: string; secret: string };
  readonly logFile: string;
  stop(): Promise<void>;
}

/** Starts a real fabric-ca-server for org `seller` on free ports in a fresh temp dir. */
export async function startTestCa(org = 'seller'): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'dvp-certs-'));
  const caName = `ca-${org}`;
  const registrar = { id: 'registrar', secret: 'registrar-pw-for-tests' };
  const logFile = join(dir, 'logs', `${caName}.log`);
  const handle = await startCaServer({
    homeDir: join(dir, 'ca'),
    caName,
    org,
    port: await freePort(),
    operationsPort: await freePort(),
    registrar,
    logFile,
  });
  return {
    dir,
    handle,
    caName,
    registrar,
    logFile,
    stop: async () => {
      await stopProcess(handle.pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throw-away CA made in memory, able to issue certificates with any Fabric attributes. */
export async function makeLocalCa(name = 'Rogue CA'): Promise<{
  issue(cn: string, attrs: Record<string, string>): Promise<{ cert: string; key: string }>;
  cert: string;
}> {
  const caKeys = await generateKeyPair();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys: caKeys.webKeys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  let serial = 2;
  return {
    cert: caCert.toString('pem'),
    async issue(cn, attrs) {
      const keys = await generateKeyPair();
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, '0'),
        subject: `CN=${cn}, OU=client`,
        issuer: caCert.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
        publicKey: keys.webKeys.publicKey,
        signingKey: caKeys.webKeys.privateKey,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [new x509.Extension(FABRIC_ATTRS_OID, false, Buffer.from(JSON.stringify({ attrs })))],
      });
      return { cert: cert.toString('pem'), key: privateKeyToPem(keys.privateKey) };
    },
  };
}
