/** Refusals of a certificate or of the identity behind it (trust/): the client or message signer. */
import { DvpError, type ErrorContext } from '../core/errors';

/** Why a client certificate (or the identity behind it) was refused. */
export type IdentityErrorCode =
  | 'CLIENT_CERT_REQUIRED'
  | 'CERT_INVALID'
  | 'CERT_UNTRUSTED'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_REVOKED'
  | 'REVOCATION_UNAVAILABLE'
  | 'CERT_USAGE'
  | 'CERT_NOT_IN_DIRECTORY'
  | 'PARTY_MISMATCH'
  | 'PARTY_NOT_SERVED'
  | 'ROLE_FORBIDDEN';

/** A refused certificate or identity; `context` says which check failed and on what. */
export class IdentityError extends DvpError<IdentityErrorCode> {
  constructor(code: IdentityErrorCode, message: string, context?: ErrorContext, options?: ErrorOptions) {
    super(code, message, context, options);
  }
}
