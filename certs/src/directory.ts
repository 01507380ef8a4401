/**
 * The party directory (DESIGN §1): party → MSP id, certificate fingerprints, EVM address, gateway
 * URL; signed by a directory authority with ECDSA P-256 over canonical JSON. A certificate maps to
 * a party only if its fingerprint is listed AND its own `party` attribute names the same party.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { parseCertificateClaims } from './attributes';
import { certificateFingerprint, signLowS } from './crypto';
import { CertsError } from './errors';
import { canonicalJson } from './canonical';

export interface DirectoryEntry {
  readonly mspId: string;
  /** SHA-256 of each certificate's DER, lower-case hex. */
  readonly certificateFingerprints: readonly string[];
  readonly evmAddress: string;
  readonly gatewayUrl: string;
  /**
   * The party's account on the securities chaincode: `<mspId>:<subject>` of the identity its
   * gateway signs Fabric transactions with, as `fabricAccountId` (fabric-id.ts) forms it. Absent for a
   * party that holds no securities on Fabric.
   */
  readonly fabricAccount?: string;
}

export interface Directory {
  readonly version: 1;
  /** Unix seconds. */
  readonly issuedAt: number;
  readonly parties: Readonly<Record<string, DirectoryEntry>>;
}

export interface SignedDirectory {
  readonly directory: Directory;
  /** ECDSA P-256 / SHA-256, DER, base64, over {@link canonicalJson}(directory). */
  readonly signature: string;
  readonly algorithm: 'ES256-DER';
}

/** Signs a directory with the authority's private key. */
export function signDirectory(directory: Directory, authorityKey: KeyObject): SignedDirectory {
  return {
    directory,
    signature: signLowS(authorityKey, canonicalJson(directory)).toString('base64'),
    algorithm: 'ES256-DER',
  };
}

/** Verifies the signature and returns the directory; throws `directory_signature` otherwise. */
export function verifyDirectory(signed: SignedDirectory, authorityPublicKey: KeyObject | string): Directory {
  const key = typeof authorityPublicKey === 'string' ? createPublicKey(authorityPublicKey) : authorityPublicKey;
  let ok = false;
  try {
    ok =
      signed.algorithm === 'ES256-DER' &&
      verify('sha256', Buffer.from(canonicalJson(signed.directory)), key, Buffer.from(signed.signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) throw new CertsError('directory_signature', 'directory signature does not verify with the authority key');
  return signed.directory;
}

/**
 * Finds the party a certificate belongs to. Throws `directory_unknown_certificate` if no entry lists
 * its fingerprint, and `directory_party_mismatch` if the certificate's `party` attribute is absent or
 * names another party than the entry that lists it.
 */
export function partyOfCertificate(
  directory: Directory,
  certPem: string,
): { readonly party: string; readonly entry: DirectoryEntry } {
  const fingerprint = certificateFingerprint(certPem);
  const match = Object.entries(directory.parties).find(([, e]) => e.certificateFingerprints.includes(fingerprint));
  if (!match) {
    throw new CertsError(
      'directory_unknown_certificate',
      `certificate ${fingerprint.slice(0, 16)}… is in no directory entry`,
    );
  }
  const [party, entry] = match;
  const claimed = parseCertificateClaims(certPem).party;
  if (claimed !== party) {
    throw new CertsError(
      'directory_party_mismatch',
      `certificate claims party '${claimed ?? '(none)'}' but the directory lists it under '${party}'`,
    );
  }
  return { party, entry };
}
