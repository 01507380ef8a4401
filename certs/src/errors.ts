/**
 * Errors raised by `@dvp/certs`. One base class with a machine-readable `code`, so callers (the CLI,
 * the network orchestrator, the gateway) can map failures without parsing messages.
 */

/** Every failure this package reports. Adding a code forces a message in {@link CERTS_ERROR_TITLES}. */
export type CertsErrorCode =
  | 'ca_server_start'
  | 'ca_request'
  | 'ca_auth'
  | 'ca_forbidden'
  | 'ca_transport'
  | 'wallet'
  | 'directory_signature'
  | 'directory_unknown_certificate'
  | 'directory_party_mismatch'
  | 'invalid_input';

/** A short human title per code, used as the first words of CLI errors. */
export const CERTS_ERROR_TITLES: Readonly<Record<CertsErrorCode, string>> = {
  ca_server_start: 'fabric-ca-server did not start',
  ca_request: 'fabric-ca-server rejected the request',
  ca_auth: 'fabric-ca-server refused the credentials',
  ca_forbidden: 'fabric-ca-server denied the operation to this identity',
  ca_transport: 'could not reach fabric-ca-server',
  wallet: 'wallet error',
  directory_signature: 'directory signature invalid',
  directory_unknown_certificate: 'certificate not in directory',
  directory_party_mismatch: 'certificate party does not match directory',
  invalid_input: 'invalid input',
};

/** Base class: `code` for programs, `message` for people, `cause` for the underlying error. */
export class CertsError extends Error {
  readonly code: CertsErrorCode;

  constructor(code: CertsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertsError';
    this.code = code;
  }
}

/** One entry of a fabric-ca-server error response (`{"errors":[{"code":20,"message":"..."}]}`). */
export interface CaErrorDetail {
  readonly code: number;
  readonly message: string;
}

/** A fabric-ca-server answered with an HTTP error or `success: false`. */
export class CaRequestError extends CertsError {
  readonly endpoint: string;
  readonly status: number;
  readonly details: readonly CaErrorDetail[];

  constructor(
    code: 'ca_request' | 'ca_auth' | 'ca_forbidden',
    endpoint: string,
    status: number,
    details: readonly CaErrorDetail[],
    hint?: string,
  ) {
    const detail = details.map((d) => `${d.message} (code ${d.code})`).join('; ') || 'no error detail';
    super(code, `${CERTS_ERROR_TITLES[code]}: ${endpoint}: HTTP ${status}: ${detail}${hint ? `. ${hint}` : ''}`);
    this.name = 'CaRequestError';
    this.endpoint = endpoint;
    this.status = status;
    this.details = details;
  }
}
