/**
 * The HTTP layer under the CA client: one function type, so tests can wrap or replace it (for
 * instance to record what leaves the machine). The default speaks HTTPS and trusts exactly the
 * certificate(s) it is given, never the system store and never "insecure".
 */
import { request } from 'node:https';
import { CertsError } from './errors';

export interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface TransportResponse {
  readonly status: number;
  readonly body: string;
}

/** Sends one request, resolves with the status and body of any HTTP answer, rejects only on I/O errors. */
export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/**
 * HTTPS transport trusting only `trustedPem` (the CA server's TLS certificate, or the CA that
 * issued it). Certificate and host name verification stay on.
 */
export function httpsTransport(trustedPem: string, timeoutMs = 10_000): Transport {
  return (req) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const url = new URL(req.url);
      if (url.protocol !== 'https:') {
        reject(new CertsError('invalid_input', `refusing a non-HTTPS CA URL: ${url.origin}`));
        return;
      }
      const headers: Record<string, string> = { ...req.headers };
      if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
      const outgoing = request(
        url,
        { method: req.method, headers, ca: trustedPem, rejectUnauthorized: true, timeout: timeoutMs, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      outgoing.on('error', (err) =>
        reject(
          new CertsError('ca_transport', `${req.method} ${url.origin}${url.pathname}: ${err.message}`, { cause: err }),
        ),
      );
      outgoing.end(req.body);
    });
}
