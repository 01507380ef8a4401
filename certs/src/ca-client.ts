/**
 * A small typed client for the fabric-ca-server REST API (v1.5, `/api/v1/...`). Keys are generated
 * here and only a CSR is sent; authenticated calls carry a Fabric CA token (see token.ts).
 */
import type { KeyObject } from 'node:crypto';
import { ATTR_EVM_ADDRESS, ATTR_PARTY, ATTR_ROLE, type IdentityType, type Role } from './attributes';
import { createCsr, generateKeyPair, pemBlocks } from './crypto';
import { CaRequestError, CertsError, type CaErrorDetail } from './errors';
import { createAuthToken } from './token';
import { httpsTransport, type Transport } from './transport';

/** An enrolled identity able to sign requests: its certificate and private key. */
export interface Signer {
  readonly certificate: string;
  readonly privateKey: KeyObject;
}

/** The result of enroll/reenroll: a fresh local key and the certificate the CA issued for it. */
export interface Enrollment extends Signer {
  /** PEM chain of the issuing CA (root first, as the server returns it). */
  readonly caChain: string;
}

export interface CaInfo {
  readonly caName: string;
  readonly caChain: string;
  readonly version: string;
}

export interface RegisterRequest {
  readonly enrollmentId: string;
  readonly type: IdentityType;
  /** Dotted affiliation (e.g. `bank1.operations`); default: the registrar's own. */
  readonly affiliation?: string;
  readonly role?: Role;
  readonly party?: string;
  readonly evmAddress?: string;
  /** Enrollment secret; the CA generates one when omitted. */
  readonly secret?: string;
  /** Default: the CA's setting. */
  readonly maxEnrollments?: number;
}

export interface EnrollRequest {
  readonly enrollmentId: string;
  readonly secret: string;
  /** Attributes to put in the certificate; default: role, party, evmAddress (optional) and the hf.* ones. */
  readonly attributes?: readonly { readonly name: string; readonly optional?: boolean }[];
  /**
   * Subject Alternative Names (DNS names or IP literals), for a TLS server certificate. Sent both
   * as a subjectAltName extension in the CSR and as the request's `hosts`, which fabric-ca-server
   * (cfssl `OverrideHosts`) uses as the certificate's SANs, replacing the CSR's.
   */
  readonly hosts?: readonly string[];
  /**
   * Signing profile of the CA config; `tls` (written by `renderCaConfig`) adds the serverAuth and
   * clientAuth extended key usages. Default: the CA's default profile (digitalSignature only).
   */
  readonly profile?: string;
}

/** RFC 5280 reason names, as fabric-ca-server spells them. */
export type RevocationReason =
  | 'unspecified'
  | 'keycompromise'
  | 'cacompromise'
  | 'affiliationchange'
  | 'superseded'
  | 'cessationofoperation'
  | 'certificatehold'
  | 'removefromcrl'
  | 'privilegewithdrawn'
  | 'aacompromise';

export type RevokeTarget = { readonly enrollmentId: string } | { readonly serial: string; readonly aki: string };

export interface RevokeResult {
  readonly revoked: readonly { readonly serial: string; readonly aki: string }[];
  /** PEM CRL, when `genCrl` was asked for. */
  readonly crl: string | undefined;
}

export interface IdentityInfo {
  readonly id: string;
  readonly type: string;
  readonly affiliation: string;
  readonly attrs: readonly { readonly name: string; readonly value: string; readonly ecert?: boolean }[];
  readonly max_enrollments: number;
}

export interface CaClientOptions {
  /** `https://host:port` of the fabric-ca-server. */
  readonly url: string;
  /** PEM the server's TLS certificate must chain to (its self-signed TLS cert, or its CA). */
  readonly tlsTrustedCert: string;
  /** CA name inside the server; default: the server's default CA. */
  readonly caName?: string;
  /** Replaces the HTTPS transport (tests record requests through it). */
  readonly transport?: Transport;
}

/** Operations on one fabric-ca-server CA. */
export interface CaClient {
  cainfo(): Promise<CaInfo>;
  register(registrar: Signer, req: Readonly<RegisterRequest>): Promise<{ secret: string }>;
  enroll(req: Readonly<EnrollRequest>): Promise<Enrollment>;
  reenroll(current: Signer, enrollmentId: string, attributes?: EnrollRequest['attributes']): Promise<Enrollment>;
  revoke(registrar: Signer, target: RevokeTarget, reason: RevocationReason, genCrl?: boolean): Promise<RevokeResult>;
  gencrl(registrar: Signer): Promise<string>;
  listIdentities(registrar: Signer): Promise<IdentityInfo[]>;
}

/** The attributes requested by default: ours optional (not every identity has a party), plus Fabric's. */
export const DEFAULT_ATTRIBUTE_REQUESTS = [
  ATTR_ROLE,
  ATTR_PARTY,
  ATTR_EVM_ADDRESS,
  'hf.EnrollmentID',
  'hf.Type',
  'hf.Affiliation',
].map((name) => ({ name, optional: true }));

/** Creates a client for one CA. No request is sent until a method is called. */
export function connectCa(opts: Readonly<CaClientOptions>): CaClient {
  return new FabricCaClient(opts);
}

const b64decode = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

class FabricCaClient implements CaClient {
  readonly #base: URL;
  readonly #caName: string | undefined;
  readonly #transport: Transport;

  constructor(opts: Readonly<CaClientOptions>) {
    this.#base = new URL(opts.url);
    this.#caName = opts.caName;
    this.#transport = opts.transport ?? httpsTransport(opts.tlsTrustedCert);
  }

  async cainfo(): Promise<CaInfo> {
    const res = await this.#call<{ CAName: string; CAChain: string; Version: string }>('POST', 'cainfo', {
      caname: this.#caName,
    });
    return { caName: res.CAName, caChain: b64decode(res.CAChain), version: res.Version };
  }

  async register(registrar: Signer, req: Readonly<RegisterRequest>): Promise<{ secret: string }> {
    const attrs = [
      [ATTR_ROLE, req.role],
      [ATTR_PARTY, req.party],
      [ATTR_EVM_ADDRESS, req.evmAddress],
    ]
      .filter((a): a is [string, string] => a[1] !== undefined)
      .map(([name, value]) => ({ name, value, ecert: true }));
    const res = await this.#call<{ secret: string }>(
      'POST',
      'register',
      {
        id: req.enrollmentId,
        type: req.type,
        affiliation: req.affiliation ?? '',
        attrs,
        secret: req.secret,
        max_enrollments: req.maxEnrollments,
        caname: this.#caName,
      },
      registrar,
    );
    return { secret: res.secret };
  }

  async enroll(req: Readonly<EnrollRequest>): Promise<Enrollment> {
    const basic = Buffer.from(`${req.enrollmentId}:${req.secret}`).toString('base64');
    return this.#issue('enroll', req, { authorization: `Basic ${basic}` });
  }

  async reenroll(current: Signer, enrollmentId: string, attributes?: EnrollRequest['attributes']): Promise<Enrollment> {
    return this.#issue('reenroll', { enrollmentId, ...(attributes ? { attributes } : {}) }, current);
  }

  async revoke(
    registrar: Signer,
    target: RevokeTarget,
    reason: RevocationReason,
    genCrl = false,
  ): Promise<RevokeResult> {
    const who = 'enrollmentId' in target ? { id: target.enrollmentId } : { serial: target.serial, aki: target.aki };
    const res = await this.#call<{ RevokedCerts: { Serial: string; AKI: string }[] | null; CRL: string }>(
      'POST',
      'revoke',
      { ...who, reason, gencrl: genCrl || undefined, caname: this.#caName },
      registrar,
    );
    return {
      revoked: (res.RevokedCerts ?? []).map((c) => ({ serial: c.Serial, aki: c.AKI })),
      crl: res.CRL ? b64decode(res.CRL) : undefined,
    };
  }

  async gencrl(registrar: Signer): Promise<string> {
    const res = await this.#call<{ CRL: string }>('POST', 'gencrl', { caname: this.#caName }, registrar);
    return b64decode(res.CRL);
  }

  async listIdentities(registrar: Signer): Promise<IdentityInfo[]> {
    const query = this.#caName ? `?ca=${encodeURIComponent(this.#caName)}` : '';
    const res = await this.#call<{ identities: IdentityInfo[] | null }>(
      'GET',
      `identities${query}`,
      undefined,
      registrar,
    );
    return res.identities ?? [];
  }

  /** enroll and reenroll: new key here, CSR out, certificate back. */
  async #issue(
    endpoint: 'enroll' | 'reenroll',
    req: Readonly<Omit<EnrollRequest, 'secret'>>,
    auth: Signer | { authorization: string },
  ): Promise<Enrollment> {
    const keys = await generateKeyPair();
    const hosts = req.hosts?.length ? req.hosts : undefined;
    const body = {
      certificate_request: await createCsr(req.enrollmentId, keys, hosts),
      hosts,
      profile: req.profile,
      attr_reqs: req.attributes ?? DEFAULT_ATTRIBUTE_REQUESTS,
      caname: this.#caName,
    };
    const res = await this.#call<{ Cert: string; ServerInfo: { CAChain: string } }>('POST', endpoint, body, auth);
    const certificate = b64decode(res.Cert);
    if (pemBlocks(certificate).length === 0)
      throw new CertsError('ca_request', `${endpoint}: no certificate in the answer`);
    return { certificate, privateKey: keys.privateKey, caChain: b64decode(res.ServerInfo.CAChain) };
  }

  async #call<T>(
    method: 'GET' | 'POST',
    endpoint: string,
    payload: object | undefined,
    auth?: Signer | { authorization: string },
  ): Promise<T> {
    const url = new URL(`api/v1/${endpoint}`, this.#base.href.endsWith('/') ? this.#base : `${this.#base.href}/`);
    // JSON.stringify drops undefined fields, so optional values never reach the server as null.
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth && 'authorization' in auth) headers['authorization'] = auth.authorization;
    else if (auth) {
      headers['authorization'] = createAuthToken(
        auth.certificate,
        auth.privateKey,
        method,
        url.pathname + url.search,
        body,
      );
    }
    const res = await this.#transport({ method, url: url.href, headers, ...(body ? { body } : {}) });
    return parseCaResponse<T>(endpoint.split('?')[0] ?? endpoint, res.status, res.body);
  }
}

interface CaEnvelope {
  readonly success?: boolean;
  readonly result?: unknown;
  readonly errors?: CaErrorDetail[];
}

/** The HTTP failures that get their own code and a hint; any other failure is a plain `ca_request`. */
const CA_FAILURES: readonly {
  readonly code: 'ca_auth' | 'ca_forbidden';
  readonly matches: (status: number, details: readonly CaErrorDetail[]) => boolean;
  readonly hint: string;
}[] = [
  {
    code: 'ca_auth',
    matches: (status, details) => status === 401 || details.some((d) => d.code === 20),
    hint: 'check the enrollment id/secret, or that key.pem matches cert.pem and the certificate was issued by this CA and is not revoked',
  },
  {
    code: 'ca_forbidden',
    matches: (status) => status === 403,
    hint: "the registrar's affiliation must cover the target's, and it needs hf.Registrar.Roles / hf.Revoker / hf.GenCRL",
  },
];

/** Parses the answer's body as JSON (empty body: an empty envelope); a non-JSON body is a `ca_request` error. */
function parseEnvelope(endpoint: string, status: number, text: string): CaEnvelope {
  try {
    return text ? (JSON.parse(text) as CaEnvelope) : {};
  } catch {
    throw new CaRequestError('ca_request', endpoint, status, [{ code: 0, message: text.slice(0, 200) }]);
  }
}

/** Unwraps the cfssl envelope `{success, result, errors, messages}`, throwing on any error. */
function parseCaResponse<T>(endpoint: string, status: number, text: string): T {
  const parsed = parseEnvelope(endpoint, status, text);
  const details = parsed.errors ?? [];
  const ok = status >= 200 && status < 300 && parsed.success !== false && details.length === 0;
  if (ok) return parsed.result as T;
  const failure = CA_FAILURES.find((f) => f.matches(status, details));
  if (failure) throw new CaRequestError(failure.code, endpoint, status, details, failure.hint);
  throw new CaRequestError('ca_request', endpoint, status, details);
}
