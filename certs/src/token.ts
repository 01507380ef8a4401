/**
 * Fabric CA token authentication (lib/client.go → util.GenECDSAToken in fabric-ca v1.5):
 *
 *   token = b64(certPEM) + "." + b64(sig)
 *   sig   = ECDSA-SHA256(key, method + "." + b64(uri) + "." + b64(body) + "." + b64(certPEM)), low-S, DER
 *
 * `uri` is the request URI as the server sees it (path and query, e.g. `/api/v1/identities?ca=x`).
 */
import type { KeyObject } from 'node:crypto';
import { signLowS } from './crypto';

const b64 = (data: string | Buffer): string => Buffer.from(data).toString('base64');

/** Builds the `authorization` header value for a request signed by an enrolled identity. */
export function createAuthToken(
  certPem: string,
  key: KeyObject,
  method: string,
  uri: string,
  body: string | Buffer,
): string {
  const b64cert = b64(certPem);
  const payload = `${method}.${b64(uri)}.${b64(body)}.${b64cert}`;
  return `${b64cert}.${signLowS(key, payload).toString('base64')}`;
}
