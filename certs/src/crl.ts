/**
 * Revocation check against a CA's CRL (DESIGN §6: gateways check revocation). The CRL must be
 * signed by the certificate's issuer and be current; only then does "not listed" mean "not revoked".
 */
import { x509 } from './crypto';
import { CertsError } from './errors';

export interface RevocationStatus {
  readonly revoked: boolean;
  /** RFC 5280 reason code when revoked and the CRL says why. */
  readonly reason: number | undefined;
  readonly revokedAt: Date | undefined;
}

/**
 * Checks `certPem` against `crlPem` issued by `issuerCertPem`. Throws `invalid_input` if the CRL is
 * not signed by the issuer, is from another issuer than the certificate, or is past its nextUpdate.
 */
export async function checkRevocation(
  certPem: string,
  crlPem: string,
  issuerCertPem: string,
  now: Date = new Date(),
): Promise<RevocationStatus> {
  const cert = new x509.X509Certificate(certPem);
  const crl = new x509.X509Crl(crlPem);
  const issuer = new x509.X509Certificate(issuerCertPem);
  if (crl.issuer !== issuer.subject || cert.issuer !== issuer.subject) {
    throw new CertsError(
      'invalid_input',
      `CRL issuer '${crl.issuer}' does not match the certificate's issuer '${cert.issuer}'`,
    );
  }
  if (!(await crl.verify({ publicKey: issuer }))) {
    throw new CertsError('invalid_input', `CRL is not signed by '${issuer.subject}'`);
  }
  if (crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < now.getTime()) {
    throw new CertsError('invalid_input', `CRL expired at ${crl.nextUpdate.toISOString()}`);
  }
  const entry = crl.findRevoked(cert);
  return { revoked: entry !== null, reason: entry?.reason, revokedAt: entry?.revocationDate };
}
