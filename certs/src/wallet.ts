/**
 * File wallet: one folder per identity, `<wallet>/<name>/` with
 *   cert.pem       enrollment certificate
 *   key.pem        PKCS#8 private key, mode 0600 (never leaves this folder)
 *   ca-chain.pem   chain of the issuing CA
 *   identity.json  {@link IdentityRecord}: what the certificate says, for humans and tools
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificateClaims, type Role } from './attributes';
import type { Enrollment, Signer } from './ca-client';
import { certificateFingerprint, certificateSerialAndAki, privateKeyFromPem, privateKeyToPem, x509 } from './crypto';
import { CertsError } from './errors';

/** Contents of `identity.json`. Holds no secret. */
export interface IdentityRecord {
  readonly version: 1;
  readonly name: string;
  readonly mspId: string;
  readonly enrollmentId: string;
  readonly role: Role | null;
  readonly party: string | null;
  readonly evmAddress: string | null;
  readonly identityType: string | null;
  /** SHA-256 of the certificate DER, lower-case hex. */
  readonly fingerprint: string;
  readonly serial: string;
  readonly aki: string;
  readonly notAfter: string;
}

/** An identity loaded from the wallet, ready to sign CA requests. */
export interface WalletIdentity extends Signer {
  readonly record: IdentityRecord;
  readonly caChain: string;
  readonly dir: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

function identityDir(walletDir: string, name: string): string {
  if (!NAME.test(name)) throw new CertsError('invalid_input', `invalid wallet identity name '${name}'`);
  return join(walletDir, name);
}

/** Writes a file atomically (temp + rename) with the given mode. */
function writeAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/** Builds the identity.json record from a certificate. */
export function identityRecord(name: string, mspId: string, certificate: string): IdentityRecord {
  const claims = parseCertificateClaims(certificate);
  const { serial, aki } = certificateSerialAndAki(certificate);
  return {
    version: 1,
    name,
    mspId,
    enrollmentId: claims.enrollmentId,
    role: claims.role ?? null,
    party: claims.party ?? null,
    evmAddress: claims.evmAddress ?? null,
    identityType: claims.identityType ?? null,
    fingerprint: certificateFingerprint(certificate),
    serial,
    aki,
    notAfter: new x509.X509Certificate(certificate).notAfter.toISOString(),
  };
}

/** Stores (or replaces, e.g. after reenroll) an identity in `<walletDir>/<name>/`. */
export function saveIdentity(walletDir: string, name: string, mspId: string, enrollment: Enrollment): IdentityRecord {
  const dir = identityDir(walletDir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const record = identityRecord(name, mspId, enrollment.certificate);
  writeAtomic(join(dir, 'key.pem'), privateKeyToPem(enrollment.privateKey), 0o600);
  writeAtomic(join(dir, 'cert.pem'), enrollment.certificate, 0o644);
  writeAtomic(join(dir, 'ca-chain.pem'), enrollment.caChain, 0o644);
  writeAtomic(join(dir, 'identity.json'), `${JSON.stringify(record, null, 2)}\n`, 0o644);
  return record;
}

/** Loads an identity; checks that key.pem is private and belongs to cert.pem. */
export function loadIdentity(walletDir: string, name: string): WalletIdentity {
  const dir = identityDir(walletDir, name);
  if (!existsSync(join(dir, 'cert.pem'))) {
    throw new CertsError('wallet', `no identity '${name}' in wallet ${walletDir}`);
  }
  try {
    const certificate = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const privateKey = privateKeyFromPem(readFileSync(join(dir, 'key.pem'), 'utf8'));
    const record = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as IdentityRecord;
    const caChain = existsSync(join(dir, 'ca-chain.pem')) ? readFileSync(join(dir, 'ca-chain.pem'), 'utf8') : '';
    return { certificate, privateKey, record, caChain, dir };
  } catch (err) {
    throw new CertsError('wallet', `cannot load identity '${name}' from ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Names of the identities in a wallet (folders holding a cert.pem), sorted. */
export function listWallet(walletDir: string): string[] {
  if (!existsSync(walletDir)) return [];
  return readdirSync(walletDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(walletDir, e.name, 'cert.pem')))
    .map((e) => e.name)
    .sort();
}
