/**
 * The HTTPS surface: over the trust material (loaded by the process, or here from the config when
 * none is given), builds the app and serves it over HTTPS with mutual TLS. The TLS layer requests a client
 * certificate but does not reject one (`rejectUnauthorized: false`): identity.ts checks it for
 * every request and answers 401/403 with a reason instead of a TLS reset.
 *
 * The TLS layer is given no CA list, so OpenSSL does not verify the client's chain at all
 * (identity.ts does, completely). With the anchors given to it, a certificate whose issuer names an
 * anchor but whose signature is wrong left OpenSSL's verification error queued on the connection
 * (Node 20, OpenSSL 3.0), and the next read failed with it: the client saw a reset instead of
 * 401 `CERT_UNTRUSTED`. The cost: the server's certificate request names no acceptable issuers,
 * so a client holding several certificates must be told which one to send. A connection the TLS
 * or HTTP layer drops is logged (`connection dropped`) with its reason.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { createApp } from './app';
import type { GatewayConfig } from '../config/config';
import type { DirectoryView } from '../trust/directory';
import { loadTrustMaterial, type TrustMaterial } from '../trust/material';
import { createLogger, type Logger } from '../core/log';
import { createGatewayMetrics, type GatewayMetrics } from '../core/metrics';
import { openApiDocument } from './openapi';
import type { BalanceReader } from '../trades/balances';
import type { PeerInbox } from '../messaging/inbox';
import type { TradeService } from '../trades/ports';
import type { EscrowManager } from '../settlement/escrow-orchestrated/manager';
import type { Notary } from '../settlement/notary/notary';
import type { Observer } from '../settlement/observer/observer';

/** What the gateway needs besides its config: the engine and the balance reader. */
export interface GatewayDependencies {
  readonly config: GatewayConfig;
  readonly trades: TradeService;
  readonly balances: BalanceReader;
  /** Default: JSON lines on stdout at `config.log.level`. */
  readonly logger?: Logger;
  /** Default: a fresh registry; pass the one the engine increments. */
  readonly metrics?: GatewayMetrics;
  /** Clock for certificate and deadline checks; default the system clock. */
  readonly now?: () => Date;
  /**
   * Anchors, CRLs, directory and identity checks, loaded by the process before anything else;
   * default: loaded here from `config` (and then closed with the gateway).
   */
  readonly trust?: TrustMaterial;
  /** Receives other gateways' messages; absent when gateway messaging is not configured. */
  readonly peer?: PeerInbox;
  /** The escrow manager this gateway runs (config role `escrow-manager`); its routes answer 404 without it. */
  readonly manager?: EscrowManager;
  /** The notary this gateway runs (config role `notary`). */
  readonly notary?: Notary;
  /** The observer this gateway runs (config role `observer`). */
  readonly observer?: Observer;
}

/** A gateway built but not necessarily listening. */
export interface Gateway {
  readonly metrics: GatewayMetrics;
  /** Verified trust anchors (PEM), e.g. for checking other gateways' server certificates. */
  readonly anchorsPem: readonly string[];
  readonly directory: DirectoryView;
  /** Re-reads CRLs and directory now (the timers do it periodically anyway). */
  reload(): Promise<void>;
  /** Starts listening on `config.listen`; resolves with the bound URL. */
  listen(): Promise<{ readonly url: string; readonly port: number }>;
  /** Stops listening (open connections are closed) and stops the reload timers. */
  close(): Promise<void>;
}

function httpsServer(config: GatewayConfig, app: ReturnType<typeof createApp>, logger: Logger): Server {
  const { listen } = config;
  const server = createServer(
    {
      cert: readFileSync(config.tls.certFile),
      key: readFileSync(config.tls.keyFile),
      // No `ca`: acceptance is decided per request by identity.ts (see the header).
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      handshakeTimeout: listen.handshakeTimeoutSeconds * 1000,
      headersTimeout: listen.headersTimeoutSeconds * 1000,
      requestTimeout: listen.requestTimeoutSeconds * 1000,
      keepAliveTimeout: listen.keepAliveTimeoutSeconds * 1000,
      // How often node looks for requests over their timeouts (default 30 s: far too coarse).
      connectionsCheckingInterval: Math.min(1000, listen.headersTimeoutSeconds * 500),
    },
    app,
  );
  limitConnections(server, listen, logger);
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    logger.warn('connection dropped', {
      layer: 'tls',
      code: err.code,
      reason: err.message,
      remote: socket.remoteAddress,
    });
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => answerClientError(err, socket, logger));
  return server;
}

/**
 * At most `maxConnections` open connections, and `maxConnectionsPerClient` from one address: one
 * over either is closed as it arrives, before its TLS handshake, and logged (once per address
 * until its count falls below the limit again).
 */
function limitConnections(server: Server, listen: GatewayConfig['listen'], logger: Logger): void {
  server.maxConnections = listen.maxConnections;
  server.on('drop', (d?: { remoteAddress?: string }) => {
    logger.warn('connection refused', {
      reason: 'maxConnections',
      limit: listen.maxConnections,
      remote: d?.remoteAddress,
    });
  });
  const open = new Map<string, number>();
  const warned = new Set<string>();
  server.on('connection', (socket: Socket) => {
    const remote = socket.remoteAddress ?? 'unknown';
    const count = (open.get(remote) ?? 0) + 1;
    if (count > listen.maxConnectionsPerClient) {
      if (!warned.has(remote)) {
        warned.add(remote);
        logger.warn('connection refused', {
          reason: 'maxConnectionsPerClient',
          limit: listen.maxConnectionsPerClient,
          remote,
        });
      }
      socket.destroy();
      return;
    }
    open.set(remote, count);
    socket.once('close', () => {
      const left = (open.get(remote) ?? 1) - 1;
      if (left > 0) open.set(remote, left);
      else open.delete(remote);
      if (left < listen.maxConnectionsPerClient) warned.delete(remote);
    });
  });
}

/** Raw answers to requests HTTP parsing refused, with the JSON error body every other answer has. */
const CLIENT_ERRORS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'HEADERS_TOO_LARGE', message: 'the request headers are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time' },
};
const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * A request the HTTP parser refused, or a connection that failed under it: logged, answered with
 * a JSON error when the socket can still take one (what node does without a listener, plus the
 * body), else closed.
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex, logger: Logger): void {
  const remote = (socket as Partial<TLSSocket>).remoteAddress;
  logger.warn('connection dropped', { layer: 'http', code: err.code, reason: err.message, remote });
  if (!socket.writable || err.code === 'ECONNRESET' || err.code?.startsWith('ERR_SSL')) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[err.code ?? ''] ?? {
    status: 400,
    code: 'MALFORMED_REQUEST',
    message: 'the request is not valid HTTP',
  };
  const body = JSON.stringify({ error: { code: known.code, message: known.message } });
  socket.end(
    `HTTP/1.1 ${known.status} ${STATUS_TEXT[known.status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Builds a gateway from its config and dependencies: loads trust anchors, CRLs and the directory
 * (throws with the file's name if one is unusable) and prepares the HTTPS server.
 */
export async function createGateway(deps: Readonly<GatewayDependencies>): Promise<Gateway> {
  const { config } = deps;
  const logger = deps.logger ?? createLogger({ level: config.log.level, base: { party: config.partyId } });
  const metrics = deps.metrics ?? createGatewayMetrics();
  const now = deps.now ?? (() => new Date());
  const trust = deps.trust ?? (await loadTrustMaterial(config, logger, now));
  const { anchors, revocation, directory, identity } = trust;
  const { peer, manager, notary, observer } = deps;
  // Handlers still running at close (e.g. a gateway message being acted on) are waited for.
  const running = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>): void => {
    running.add(work);
    void work.then(
      () => running.delete(work),
      () => running.delete(work),
    );
  };
  const app = createApp({
    identity,
    logger,
    track,
    deps: {
      servedParty: config.partyId,
      trades: deps.trades,
      balances: deps.balances,
      directory,
      metrics,
      openapi: openApiDocument(config.partyId),
      health: () => ({ directoryIssuedAt: directory.current().issuedAt, crls: revocation.loaded() }),
      now,
      ...(peer && { peer }),
      ...(manager && { manager }),
      ...(notary && { notary }),
      ...(observer && { observer }),
    },
  });
  const server = httpsServer(config, app, logger);
  return {
    metrics,
    anchorsPem: anchors.map((a) => a.pem),
    directory,
    reload: () => trust.reload(),
    listen: () => listen(server, config, logger),
    close: async () => {
      if (!deps.trust) trust.close();
      await closeServer(server);
      await Promise.allSettled([...running]);
    },
  };
}

function listen(server: Server, config: GatewayConfig, logger: Logger): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
      const url = `https://${host}:${port}`;
      logger.info('gateway listening', { url, anchors: config.trustAnchors.map((a) => a.mspId) });
      resolve({ url, port });
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

/** {@link createGateway} then {@link Gateway.listen}. */
export async function startGateway(
  deps: Readonly<GatewayDependencies>,
): Promise<Gateway & { readonly url: string; readonly port: number }> {
  const gateway = await createGateway(deps);
  try {
    const address = await gateway.listen();
    return { ...gateway, ...address };
  } catch (err) {
    await gateway.close();
    throw err;
  }
}
