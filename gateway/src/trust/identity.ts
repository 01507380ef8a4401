/**
 * Who is calling (DESIGN.md §6). The TLS layer asks for a client certificate but accepts any, so
 * that this module can answer with a reason instead of a TLS reset. For each request it checks:
 * the certificate chains to a configured trust anchor, is within its validity dates, is not
 * revoked (current CRL), may be used for client authentication, carries a role, is listed in the
 * directory under the party its `party` attribute names, was issued by that party's own CA (MSP),
 * and belongs to the party this gateway serves.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto } from 'node:crypto';
import { CertsError, parseCertificateClaims, type CertificateClaims } from '@dvp/certs';
import { IdentityError } from './errors';
import type { DirectoryView } from './directory';
import type { RevocationAnchor, RevocationStore } from './revocation';
import type { Actor } from '../core/trade';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A CA whose certificates are accepted, bound to the MSP (organisation) it issues for. */
export interface TrustAnchor extends RevocationAnchor {
  readonly mspId: string;
}

/** The verified caller: the {@link Actor} handed to the engine, plus what the logs need. */
export interface VerifiedIdentity {
  readonly actor: Actor;
  readonly mspId: string;
  readonly enrollmentId: string;
}

/** Verifies a DER client certificate; throws {@link IdentityError} with an identity code. */
export interface IdentityVerifier {
  /** A caller of the party this gateway serves (operators, traders, auditors). */
  verify(der: Uint8Array | undefined): Promise<VerifiedIdentity>;
  /** Another party's gateway: every check of {@link verify}, but the party must be another one. */
  verifyPeer(der: Uint8Array | undefined): Promise<VerifiedIdentity>;
}

export interface IdentityVerifierOptions {
  readonly anchors: readonly TrustAnchor[];
  readonly revocation: RevocationStore;
  readonly directory: DirectoryView;
  /** The party this gateway acts for; callers of other parties are refused. */
  readonly servedParty: string;
  readonly now?: () => Date;
}

/** Parses a PEM CA certificate into a trust anchor; throws if it is not a CA certificate. */
export function trustAnchor(mspId: string, pem: string): TrustAnchor {
  const certificate = new x509.X509Certificate(pem);
  const bc = certificate.getExtension(x509.BasicConstraintsExtension);
  if (bc && !bc.ca) throw new Error(`trust anchor '${certificate.subject}' is not a CA certificate`);
  return { mspId, pem: certificate.toString('pem'), certificate };
}

function parse(der: Uint8Array | undefined): x509.X509Certificate {
  if (der === undefined || der.byteLength === 0) {
    throw new IdentityError('CLIENT_CERT_REQUIRED', 'no client certificate was presented');
  }
  try {
    return new x509.X509Certificate(der);
  } catch (err) {
    throw new IdentityError('CERT_INVALID', 'the client certificate is not valid DER X.509', undefined, { cause: err });
  }
}

async function findAnchor(
  cert: x509.X509Certificate,
  anchors: readonly TrustAnchor[],
  now: Date,
): Promise<TrustAnchor> {
  for (const anchor of anchors) {
    if (anchor.certificate.subject !== cert.issuer) continue;
    if (!(await cert.verify({ publicKey: anchor.certificate, signatureOnly: true }))) continue;
    if (now < anchor.certificate.notBefore || now > anchor.certificate.notAfter) {
      throw new IdentityError(
        'CERT_UNTRUSTED',
        `the issuing CA '${anchor.certificate.subject}' is outside its validity`,
      );
    }
    return anchor;
  }
  throw new IdentityError(
    'CERT_UNTRUSTED',
    `issuer '${cert.issuer}' is not a trusted CA (or did not sign this certificate)`,
  );
}

function checkDates(cert: x509.X509Certificate, now: Date): void {
  if (now > cert.notAfter) {
    throw new IdentityError('CERT_EXPIRED', `the client certificate expired at ${cert.notAfter.toISOString()}`);
  }
  if (now < cert.notBefore) {
    throw new IdentityError(
      'CERT_NOT_YET_VALID',
      `the client certificate is valid from ${cert.notBefore.toISOString()}`,
    );
  }
}

/** digitalSignature key usage required; extended key usage, when present, must allow clientAuth. */
function checkUsage(cert: x509.X509Certificate): void {
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (bc?.ca) throw new IdentityError('CERT_USAGE', 'a CA certificate cannot be used as a client certificate');
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  if (!ku || (ku.usages & x509.KeyUsageFlags.digitalSignature) === 0) {
    throw new IdentityError('CERT_USAGE', 'the client certificate lacks the digitalSignature key usage');
  }
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (eku && !eku.usages.map(String).includes(x509.ExtendedKeyUsage.clientAuth)) {
    throw new IdentityError('CERT_USAGE', 'the client certificate’s extended key usage does not allow clientAuth');
  }
}

async function checkRevoked(store: RevocationStore, pem: string, anchor: TrustAnchor, now: Date): Promise<void> {
  const verdict = await store.check(pem, anchor, now);
  if (verdict.status === 'revoked') {
    const at = verdict.revokedAt ? ` at ${verdict.revokedAt.toISOString()}` : '';
    throw new IdentityError('CERT_REVOKED', `the client certificate was revoked${at}`, { reasonCode: verdict.reason });
  }
  if (verdict.status === 'unknown') throw new IdentityError('REVOCATION_UNAVAILABLE', verdict.why);
}

function claimsOf(cert: x509.X509Certificate): CertificateClaims {
  try {
    return parseCertificateClaims(cert);
  } catch (err) {
    throw new IdentityError(
      'CERT_INVALID',
      'the certificate’s attribute extension is not valid JSON attributes',
      undefined,
      {
        cause: err,
      },
    );
  }
}

/** Maps the directory lookup to a party, or to 401/403 with the reason. */
function partyOf(directory: DirectoryView, pem: string, anchor: TrustAnchor): string {
  let found: { party: string; entry: { mspId: string } };
  try {
    found = directory.partyOf(pem);
  } catch (err) {
    if (err instanceof CertsError && err.code === 'directory_party_mismatch') {
      throw new IdentityError('PARTY_MISMATCH', err.message);
    }
    if (err instanceof CertsError && err.code === 'directory_unknown_certificate') {
      throw new IdentityError('CERT_NOT_IN_DIRECTORY', err.message);
    }
    throw err;
  }
  if (found.entry.mspId !== anchor.mspId) {
    throw new IdentityError(
      'PARTY_MISMATCH',
      `party '${found.party}' belongs to MSP '${found.entry.mspId}' but the certificate was issued by the CA of '${anchor.mspId}'`,
    );
  }
  return found.party;
}

/** Builds the per-request certificate verifier. */
export function createIdentityVerifier(opts: Readonly<IdentityVerifierOptions>): IdentityVerifier {
  const now = opts.now ?? (() => new Date());
  const check = async (der: Uint8Array | undefined, scope: 'own' | 'peer'): Promise<VerifiedIdentity> => {
    const cert = parse(der);
    const at = now();
    const anchor = await findAnchor(cert, opts.anchors, at);
    checkDates(cert, at);
    const pem = cert.toString('pem');
    await checkRevoked(opts.revocation, pem, anchor, at);
    checkUsage(cert);
    const claims = claimsOf(cert);
    const party = partyOf(opts.directory, pem, anchor);
    if (scope === 'own' && party !== opts.servedParty) {
      throw new IdentityError('PARTY_NOT_SERVED', `this gateway acts for '${opts.servedParty}', not for '${party}'`);
    }
    if (scope === 'peer' && party === opts.servedParty) {
      throw new IdentityError('PARTY_NOT_SERVED', `gateway messages must come from another party than '${party}'`);
    }
    const fingerprint = createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex');
    return {
      actor: { party, subject: cert.subject, role: claims.role ?? '', fingerprint },
      mspId: anchor.mspId,
      enrollmentId: claims.enrollmentId,
    };
  };
  return { verify: (der) => check(der, 'own'), verifyPeer: (der) => check(der, 'peer') };
}

/** Throws ROLE_FORBIDDEN unless the actor's role is one of `roles`. */
export function requireRole(actor: Actor, roles: readonly string[], route: string): void {
  if (!roles.includes(actor.role)) {
    const has = actor.role === '' ? 'no role' : `role '${actor.role}'`;
    throw new IdentityError(
      'ROLE_FORBIDDEN',
      `${route} needs one of [${roles.join(', ')}]; the certificate has ${has}`,
    );
  }
}
