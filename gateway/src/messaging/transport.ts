/**
 * Delivers envelopes over HTTPS with mutual TLS: `POST <gateway URL>/v1/peer/messages`, the
 * client certificate being this gateway's identity. The server's certificate must be issued by the
 * CA of the receiving party's own organisation (its MSP in the directory), so another member's CA
 * cannot stand in for that party's gateway. A `409 MESSAGE_REPLAYED` answer means the receiver
 * already has the message, so it counts as delivered. Answers are read up to 64 KiB.
 */
import { request } from 'node:https';
import type { PeerEnvelope } from './envelope';
import type { DeliveryResult, PeerTransport } from './outbox';

/** Options of {@link httpsPeerTransport}. */
export interface HttpsPeerTransportOptions {
  /** Base URL of a party's gateway (from the directory or configuration), or undefined. */
  readonly urlOf: (party: string) => string | undefined;
  /** Client certificate and key (PEM) of this gateway. */
  readonly cert: string;
  readonly key: string;
  /** The CA certificates (PEM) that may issue `party`'s gateway server certificate, or undefined. */
  readonly caOf: (party: string) => readonly string[] | undefined;
  /** Per request; default 10 000 ms. */
  readonly timeoutMs?: number;
}

/** Path of the receiving route. */
export const PEER_MESSAGES_PATH = '/v1/peer/messages';

/** Largest answer read from another gateway. */
const MAX_ANSWER_BYTES = 64 * 1024;

function errorOf(status: number, text: string): { code: string; message: string } {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    return { code: String(body.error?.code ?? 'HTTP_ERROR'), message: String(body.error?.message ?? text) };
  } catch {
    return { code: 'HTTP_ERROR', message: `HTTP ${status}: ${text.slice(0, 200)}` };
  }
}

/** Creates the transport. */
export function httpsPeerTransport(options: Readonly<HttpsPeerTransportOptions>): PeerTransport {
  return {
    deliver(toParty, envelope: PeerEnvelope): Promise<DeliveryResult> {
      const base = options.urlOf(toParty);
      if (base === undefined) {
        return Promise.resolve({
          ok: false,
          status: 0,
          code: 'NO_GATEWAY_URL',
          message: `no gateway URL for ${toParty}`,
        });
      }
      const ca = options.caOf(toParty);
      if (ca === undefined || ca.length === 0) {
        return Promise.resolve({
          ok: false,
          status: 0,
          code: 'NO_GATEWAY_CA',
          message: `no trusted CA for ${toParty}`,
        });
      }
      const payload = JSON.stringify(envelope);
      return new Promise((resolve, reject) => {
        const req = request(
          new URL(PEER_MESSAGES_PATH, base),
          {
            method: 'POST',
            cert: options.cert,
            key: options.key,
            ca: [...ca],
            agent: false,
            timeout: options.timeoutMs ?? 10_000,
            headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`${toParty}'s gateway answered more than 64 KiB`));
              else chunks.push(c);
            });
            res.on('error', reject);
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              const text = Buffer.concat(chunks).toString('utf8');
              if (status >= 200 && status < 300) return resolve({ ok: true, replayed: false });
              const { code, message } = errorOf(status, text);
              if (status === 409 && code === 'MESSAGE_REPLAYED') return resolve({ ok: true, replayed: true });
              resolve({ ok: false, status, code, message });
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer from ${toParty}'s gateway within the timeout`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
  };
}
