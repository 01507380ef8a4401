/**
 * Key material for Fabric identities: ECDSA P-256 keys generated locally, PKCS#10 CSRs, low-S DER
 * signatures (what Fabric's BCCSP verifies) and certificate fingerprints. Private keys stay here:
 * nothing in this module serialises a key except {@link privateKeyToPem}, used by the wallet.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPrivateKey, KeyObject, sign, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Order of the P-256 group; a signature's s must be at most half of it (low-S, as Fabric requires). */
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const P256_HALF_N = P256_N >> 1n;

/** A P-256 key pair usable both by node:crypto (signing) and by WebCrypto (CSR generation). */
export interface LocalKeyPair {
  readonly privateKey: KeyObject;
  readonly webKeys: CryptoKeyPair;
}

/** Generates an ECDSA P-256 key pair in this process. */
export async function generateKeyPair(): Promise<LocalKeyPair> {
  const webKeys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  return { privateKey: KeyObject.from(webKeys.privateKey), webKeys };
}

/** IPv4 or IPv6 literal (anything else in a host list is a DNS name). */
export function isIpAddress(host: string): boolean {
  return isIP(host) !== 0;
}

/**
 * Builds a PEM PKCS#10 request whose subject is `CN=<commonName>` (Fabric CA requires CN =
 * enrollment id). `hosts` become a subjectAltName extension (IP literals as iPAddress, the rest as
 * dNSName), which fabric-ca-server copies into the certificate.
 */
export async function createCsr(
  commonName: string,
  keys: LocalKeyPair,
  hosts: readonly string[] = [],
): Promise<string> {
  const extensions = hosts.length
    ? [new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIpAddress(h) ? 'ip' : 'dns', value: h })))]
    : [];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName] }],
    keys: keys.webKeys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions,
  });
  return csr.toString('pem');
}

/** PKCS#8 PEM of a private key (for the wallet's key.pem only). */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Parses a PEM private key (PKCS#8 or SEC1) and checks it is P-256. */
export function privateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('expected an ECDSA P-256 private key');
  }
  return key;
}

/** ECDSA P-256 / SHA-256 signature, DER-encoded, with s normalised to the lower half of the order. */
export function signLowS(key: KeyObject, data: Buffer | string): Buffer {
  const raw = sign('sha256', typeof data === 'string' ? Buffer.from(data) : data, {
    key,
    dsaEncoding: 'ieee-p1363',
  });
  const r = BigInt(`0x${raw.subarray(0, 32).toString('hex')}`);
  let s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  if (s > P256_HALF_N) s = P256_N - s;
  return derSignature(r, s);
}

function derInteger(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  // A leading 1 bit would make the INTEGER negative: prefix a zero byte.
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  // At most 2 × 35 bytes for P-256: the short length form always fits.
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** Splits a PEM bundle into its blocks (certificates, CRLs...), each re-terminated with a newline. */
export function pemBlocks(pem: string, label = 'CERTIFICATE'): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return (pem.match(re) ?? []).map((block) => `${block}\n`);
}

/** Lower-case hex SHA-256 of the certificate's DER encoding (the directory's fingerprint). */
export function certificateFingerprint(certPem: string): string {
  return createHash('sha256')
    .update(Buffer.from(new x509.X509Certificate(certPem).rawData))
    .digest('hex');
}

/**
 * Serial number and authority key id of a certificate as fabric-ca-server keys them: lower-case hex
 * with leading zeros trimmed (lib/serverrequestcontext.go). Used to revoke one certificate.
 */
export function certificateSerialAndAki(certPem: string): { serial: string; aki: string } {
  const cert = new x509.X509Certificate(certPem);
  const akiExt = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  return {
    serial: trimHex(cert.serialNumber),
    aki: trimHex(akiExt?.keyId ?? ''),
  };
}

const trimHex = (hex: string): string => hex.toLowerCase().replace(/^0+(?=.)/, '');

export { x509 };
