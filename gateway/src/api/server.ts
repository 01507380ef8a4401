/**
 * The HTTPS surface: over the trust material (loaded by the process, or here from the config when
 * none is given), builds the app and serves it over HTTPS with mutual TLS. The TLS layer requests a client
 * certificate but does not reject one (`rejectUnauthorized: false`): identity.ts checks it for
 * every request and answers 401/403 with a reason instead of a TLS reset.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import type { GatewayConfig } from '../config/config';
import type { DirectoryView } from '../trust/directory';
import type { TrustAnchor } from '../trust/identity';
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

function httpsServer(
  config: GatewayConfig,
  anchors: readonly TrustAnchor[],
  app: ReturnType<typeof createApp>,
): Server {
  return createServer(
    {
      cert: readFileSync(config.tls.certFile),
      key: readFileSync(config.tls.keyFile),
      // Advertised as acceptable issuers; acceptance itself is decided per request.
      ca: anchors.map((a) => a.pem),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    app,
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
  const server = httpsServer(config, anchors, app);
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
