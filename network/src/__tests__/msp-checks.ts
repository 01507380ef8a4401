/**
 * Assertions on one org's Fabric MSP/TLS material (msp.ts), shared by the network unit test and
 * the cross-ledger test that reads what `make network-up` wrote. Certificates are parsed with
 * node:crypto (chain, key match, SANs, EKUs) and @dvp/certs (subject OUs).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificateClaims } from '@dvp/certs';
import { MSP_FILES, TLS_FILES } from '../msp';
import type { FabricClientOrgMsp, FabricOrgMsp } from '../state';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

const read = (file: string): string => readFileSync(file, 'utf8');
const modeOf = (file: string): number => statSync(file).mode & 0o777;

/** Asserts `certFile` is issued and signed by `caCert`, valid now, and matched by `keyFile` if given. */
export function expectIssuedBy(certFile: string, caCert: X509Certificate, keyFile?: string): X509Certificate {
  const cert = new X509Certificate(read(certFile));
  expect(cert.checkIssued(caCert)).toBe(true);
  expect(cert.verify(caCert.publicKey)).toBe(true);
  expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
  expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now());
  if (keyFile !== undefined) {
    expect(modeOf(keyFile)).toBe(0o600);
    expect(cert.checkPrivateKey(createPrivateKey(read(keyFile)))).toBe(true);
  }
  return cert;
}

/** The subject OUs of a certificate file (Fabric CA: the identity type, then the affiliation). */
export const ousOf = (certFile: string): readonly string[] => parseCertificateClaims(read(certFile)).ous;

/** cacerts/, tlscacerts/ hold the org CA's root; config.yaml enables NodeOUs against that file. */
export function expectVerifyingMsp(mspDir: string, caCertPem: string): void {
  expect(read(join(mspDir, MSP_FILES.caCert))).toBe(caCertPem);
  expect(read(join(mspDir, MSP_FILES.tlsCaCert))).toBe(caCertPem);
  const config = read(join(mspDir, MSP_FILES.config));
  expect(config).toMatch(/^NodeOUs:\n {2}Enable: true\n/);
  for (const ou of ['client', 'peer', 'admin', 'orderer']) {
    const key = `${ou[0]?.toUpperCase()}${ou.slice(1)}OUIdentifier`;
    expect(config).toContain(
      `  ${key}:\n    Certificate: "${MSP_FILES.caCert}"\n    OrganizationalUnitIdentifier: ${ou}\n`,
    );
  }
  // The file config.yaml names is resolved relative to the MSP folder, as Fabric does.
  expect(existsSync(join(mspDir, MSP_FILES.caCert))).toBe(true);
}

/**
 * Exactly one of the NodeOU names among the certificate's OUs, and it is `ou`: a Fabric MSP with
 * NodeOUs (validateIdentityOUsV142) rejects an identity carrying none or several of them.
 */
export function expectNodeOu(certFile: string, ou: string): void {
  expect(ousOf(certFile).filter((o) => ['client', 'peer', 'admin', 'orderer'].includes(o))).toEqual([ou]);
}

/** A signing MSP: the verifying part, one certificate of type `ou`, its 0600 key, no TLS usages. */
function expectSigningMsp(mspDir: string, caCertPem: string, ou: string): void {
  expectVerifyingMsp(mspDir, caCertPem);
  expect(readdirSync(join(mspDir, 'keystore'))).toEqual(['key_sk']);
  expect(modeOf(join(mspDir, 'keystore'))).toBe(0o700);
  const cert = expectIssuedBy(
    join(mspDir, MSP_FILES.signCert),
    new X509Certificate(caCertPem),
    join(mspDir, MSP_FILES.key),
  );
  expectNodeOu(join(mspDir, MSP_FILES.signCert), ou);
  expect(parseCertificateClaims(cert.toString()).identityType).toBe(ou);
  // The CA's default profile: digitalSignature only, no extended key usage.
  expect(cert.keyUsage).toBeUndefined();
}

/**
 * What an org without a node (the agents org) must satisfy, and every org besides its node: the
 * verifying MSP (no key) and the org admin's signing MSP (OU=admin), chained to `caCertFile`.
 */
export function expectClientOrgMsp(msp: FabricClientOrgMsp, caCertFile: string): void {
  const caCertPem = read(caCertFile);
  expectVerifyingMsp(msp.mspDir, caCertPem);
  expect(existsSync(join(msp.mspDir, 'keystore'))).toBe(false);
  expectSigningMsp(msp.admin.mspDir, caCertPem, 'admin');
}

/**
 * Everything one org's material must satisfy: layout, modes, OUs by identity type (node = peer or
 * orderer, admin = admin), TLS SANs and EKUs, NodeOUs config, and that every certificate chains to
 * the org's CA certificate `caCertFile`.
 */
export function expectOrgMsp(msp: FabricOrgMsp, caCertFile: string): void {
  const caCertPem = read(caCertFile);
  const caCert = new X509Certificate(caCertPem);
  expectClientOrgMsp(msp, caCertFile);
  expectSigningMsp(msp.node.mspDir, caCertPem, msp.node.type);

  const tls = join(msp.node.tlsDir, TLS_FILES.cert);
  const tlsCert = expectIssuedBy(tls, caCert, join(msp.node.tlsDir, TLS_FILES.key));
  expect(read(join(msp.node.tlsDir, TLS_FILES.ca))).toBe(caCertPem);
  expectNodeOu(tls, msp.node.type);
  expect([...(tlsCert.keyUsage ?? [])].sort()).toEqual([SERVER_AUTH, CLIENT_AUTH]);
  const sans = (tlsCert.subjectAltName ?? '').split(', ').sort();
  expect(sans).toEqual(['DNS:localhost', `DNS:${msp.node.host}`, 'IP Address:127.0.0.1'].sort());
  expect(tlsCert.checkHost(msp.node.host)).toBe(msp.node.host);
  expect(tlsCert.checkIP('127.0.0.1')).toBe('127.0.0.1');
}
