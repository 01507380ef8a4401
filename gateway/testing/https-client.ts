/**
 * Test-only HTTPS client: one request, optionally with a client certificate, trusting exactly the
 * gateway's server certificate, no connection reuse. Never use in product code.
 */
import { request as httpsRequest } from 'node:https';

export interface TestRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  /** Client certificate and key (PEM); omitted means no certificate. */
  readonly identity?: { readonly cert: string; readonly key: string };
  /** Serialised as JSON unless `rawBody` is given. */
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** Parsed body when it is JSON, else undefined. */
  readonly json: unknown;
}

/** A client bound to one gateway URL and its server certificate. */
export type TestClient = (req: TestRequest) => Promise<TestResponse>;

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Creates a client for `baseUrl` that trusts `serverCertPem` only. */
export function testClient(baseUrl: string, serverCertPem: string): TestClient {
  return (req) =>
    new Promise((resolve, reject) => {
      const payload = req.rawBody ?? (req.body === undefined ? undefined : JSON.stringify(req.body));
      const headers: Record<string, string> = {
        ...(payload !== undefined
          ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }
          : {}),
        ...req.headers,
      };
      const r = httpsRequest(
        new URL(req.path, baseUrl),
        {
          method: req.method ?? 'GET',
          ca: serverCertPem,
          agent: false,
          headers,
          ...(req.identity ? { cert: req.identity.cert, key: req.identity.key } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parse(text) });
          });
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(payload);
    });
}
