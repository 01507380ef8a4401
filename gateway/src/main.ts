/**
 * The gateway process. Start-up runs in the order of what needs what, each part handed what it
 * needs, nothing bound late: configuration (`loadConfig(process.env)`) → trust material (anchors,
 * CRLs, directory) → store → ledger connectors (EVM node checked; Fabric peer when securities are
 * there) → gateway messaging's outbox → settlement modes → the trade use case (engine + service;
 * unfinished work resumed first) → messaging's inbox → HTTPS API. Messaging is built in two
 * halves on purpose: the outbox before the modes (it is their `SettlementMessenger` and the trade
 * service's `CounterpartyChannel`), the inbox after the trade service (it hands it every verified
 * message). Logs are JSON lines on stdout.
 * SIGTERM/SIGINT stop the listener, wait for background work and close the database. A bad
 * configuration exits with code 2 and one JSON line on stderr naming every problem; any other
 * start-up failure exits with 1.
 *
 * Run: `DVP_GATEWAY_CONFIG=<file> npx tsx gateway/src/main.ts` (or `node gateway/dist/main.js`).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { certificateFingerprint } from '@dvp/certs';
import { createGateway } from './api/server';
import { ConfigError, loadConfig, type GatewayConfig } from './config/config';
import { crashPointFromEnv } from './config/crash-points';
import type { CrashPoint } from './core/crash-points';
import { createLogger, type Logger } from './core/log';
import { createGatewayMetrics } from './core/metrics';
import type { Actor } from './core/trade';
import type { LedgerEvent } from './ledger/connector';
import { probeEvmNode } from './ledger/evm/connect';
import { createPeerInbox } from './messaging/inbox';
import { PeerStore } from './messaging/store';
import { openStore, type GatewayStore } from './store';
import { createTradeEngine, type TradeEngine } from './trades/engine';
import { createTrades } from './trades/service';
import { loadTrustMaterial, type TrustMaterial } from './trust/material';
import {
  balanceReader,
  cannotSettle,
  connectorsOf,
  fabricLedger,
  htlcMode,
  matchingExtraTerms,
  peerOutbox,
  unknownInstrument,
} from './wiring';
import { agentOf, escrowMode } from './agents';

/** A started gateway process (without the signal handling of {@link main}). */
export interface RunningGateway {
  readonly url: string;
  readonly engine: TradeEngine;
  /** Stops the listener and reload timers, waits for background work, closes the database. */
  close(): Promise<void>;
}

/** The gateway's own identity (its Fabric `gateway` certificate, else its TLS certificate). */
function systemActor(config: GatewayConfig): Actor {
  const pem = readFileSync(config.fabric?.certFile ?? config.tls.certFile, 'utf8');
  return {
    party: config.partyId,
    subject: new x509.X509Certificate(pem).subject,
    role: 'gateway',
    fingerprint: certificateFingerprint(pem),
  };
}

/** Starts everything from `env`; throws {@link ConfigError} on a bad configuration. */
export async function runGateway(env: Readonly<Record<string, string | undefined>>): Promise<RunningGateway> {
  const config = loadConfig(env);
  const crash = crashPointFromEnv(env);
  const logger = createLogger({ level: config.log.level, base: { party: config.partyId } });
  const trust = await loadTrustMaterial(config, logger);
  try {
    const evm = await probeEvmNode(config.evm);
    mkdirSync(dirname(config.sqlitePath), { recursive: true, mode: 0o700 });
    const store = openStore(config.sqlitePath, { party: config.partyId });
    try {
      return await serve(config, { logger, trust, store, evm, crash });
    } catch (err) {
      store.close();
      throw err;
    }
  } catch (err) {
    trust.close();
    throw err;
  }
}

interface Parts {
  readonly logger: Logger;
  readonly trust: TrustMaterial;
  readonly store: GatewayStore;
  readonly evm: Awaited<ReturnType<typeof probeEvmNode>>;
  /** Where a test may make the process die (config/crash-points.ts); production: nowhere. */
  readonly crash: CrashPoint;
}

/** Gateway messaging's outbox, when there is a "peers" section; without one, trades stay unmatched. */
function outboxOf(config: GatewayConfig, p: Parts, peers: PeerStore) {
  const { logger, store, trust } = p;
  const outbox =
    config.peers && peerOutbox({ ...config, peers: config.peers }, { store, peers, trust, logger, crash: p.crash });
  if (!outbox) logger.warn('gateway messaging is off (no "peers" section): trades stay unmatched');
  return outbox;
}

interface SettlementParts {
  readonly outbox: ReturnType<typeof outboxOf>;
  readonly connectors: ReturnType<typeof connectorsOf>;
  readonly cash: { readonly token: Parts['evm']['token']; readonly currency: Parts['evm']['currency'] };
}

/**
 * The settlement modes (HTLC when configured, the orchestrated escrow for a bank) and the party of
 * its own this process may be (manager, notary, observer); all of them need the outbox.
 */
function settlementOf(config: GatewayConfig, p: Parts, s: SettlementParts) {
  const { logger, store } = p;
  const { outbox, connectors, cash } = s;
  const directory = p.trust.directory;
  const htlc =
    config.settlement &&
    outbox &&
    htlcMode(config, config.settlement, { store, messenger: outbox, directory, cash, logger });
  const escrowParts = outbox && {
    store,
    messenger: outbox,
    directory,
    connectors,
    cash,
    logger,
    crashPoint: p.crash,
  };
  const escrow = escrowParts && config.role === 'bank' ? escrowMode(config, escrowParts) : undefined;
  const agent = escrowParts && agentOf(config, escrowParts);
  return { htlc, escrow, agent };
}

/** The trade engine over the configured settlement modes and ledger connectors. */
function engineOf(
  config: GatewayConfig,
  p: Parts,
  e: {
    readonly fabric: ReturnType<typeof fabricLedger>;
    readonly settlement: ReturnType<typeof settlementOf>;
    readonly connectors: ReturnType<typeof connectorsOf>;
    readonly metrics: ReturnType<typeof createGatewayMetrics>;
  },
) {
  const { logger, store } = p;
  const { fabric, connectors, metrics } = e;
  const { htlc, escrow } = e.settlement;
  const directory = p.trust.directory;
  const modes = [...(htlc ? [htlc] : []), ...(escrow ? [escrow] : [])];
  return createTradeEngine({
    store,
    metrics,
    cannotSettle: cannotSettle(
      config,
      p.evm.currency,
      modes.map((m) => m.mode),
    ),
    ...(fabric && { unknownInstrument: unknownInstrument(fabric) }),
    systemActor: systemActor(config),
    modes,
    connectors,
    isKnownParty: (party) => directory.has(party),
    onError: (err, context) => logger.error('settlement work failed', { ...context, error: err }),
    crashPoint: p.crash,
  });
}

/** Ledgers, messaging's outbox, settlement modes and the trade use case, in that order. */
function build(config: GatewayConfig, p: Parts) {
  const { logger, store, trust } = p;
  const directory = trust.directory;
  const connector = p.evm.connect(store.followers);
  const fabric = fabricLedger(config, store);
  const peers = new PeerStore(store);
  const outbox = outboxOf(config, p, peers);
  const cash = { token: p.evm.token, currency: p.evm.currency };
  const connectors = connectorsOf(config, connector, fabric?.connector);
  const settlement = settlementOf(config, p, { outbox, connectors, cash });
  const { htlc, escrow, agent } = settlement;
  const metrics = createGatewayMetrics();
  const engine = engineOf(config, p, { fabric, settlement, connectors, metrics });
  const trades = createTrades({
    engine,
    terms: store.terms,
    ...(outbox && { channel: outbox }),
    extraTerms: matchingExtraTerms(config),
    onError: (err, c) => logger.warn('trade messaging failed', { ...c, error: err }),
  });
  const balances = balanceReader(config, { evm: connector, fabric, store, cash, directory });
  const inbox =
    outbox &&
    createPeerInbox({
      store: peers,
      verifyPeer: trust.identity.verifyPeer,
      // A bank's messages go to its trades; a party of its own (manager, notary, observer) takes its own.
      // A message is also news that its sender's gateway is up: what waits for it is sent now.
      handle: (m) => {
        outbox.peerReachable(m.envelope.from);
        return agent ? agent.handle(m) : trades.handle(m);
      },
      crashPoint: p.crash,
    });
  const modes = [htlc, escrow].filter((m) => m !== undefined);
  return { connector, fabric, outbox, modes, agent, metrics, engine, trades, balances, inbox };
}

type Built = ReturnType<typeof build>;

/** Where securities are held, for the start-up log line. */
function securitiesOf(config: GatewayConfig, fabric: ReturnType<typeof build>['fabric']): string {
  if (fabric) return `fabric ${config.fabric?.peer?.endpoint} as ${fabric.connector.signer}`;
  return config.securities?.ledger ?? 'none';
}

/** The HTTPS API over the trade use case, messaging's inbox and the party of its own, if any. */
function apiOf(config: GatewayConfig, p: Parts, b: Built) {
  const { trades, balances, metrics, inbox, agent } = b;
  return createGateway({
    config,
    trust: p.trust,
    trades,
    balances,
    logger: p.logger,
    metrics,
    ...(inbox && { peer: inbox }),
    ...(agent?.manager && { manager: agent.manager }),
    ...(agent?.notary && { notary: agent.notary }),
    ...(agent?.observer && { observer: agent.observer }),
  });
}

/** Followers of the HTLC and escrow event streams of the EVM ledger, and of Fabric's when it is there. */
function followersOf(b: Built) {
  const { connector, fabric, engine } = b;
  const onEvent = (event: LedgerEvent): Promise<void> => engine.onLedgerEvent(event);
  return [
    connector.follow('htlc', onEvent),
    connector.follow('escrow', onEvent),
    ...(fabric ? [fabric.connector.follow('htlc', onEvent), fabric.connector.follow('escrow', onEvent)] : []),
  ];
}

async function serve(config: GatewayConfig, p: Parts): Promise<RunningGateway> {
  const { logger } = p;
  const built = build(config, p);
  const { connector, fabric, outbox, modes, agent, engine, trades } = built;
  const gateway = await apiOf(config, p, built);
  const followers = followersOf(built);
  /** Stops everything that may still write to the store, in dependency order; the store last. */
  const stopAll = async (): Promise<void> => {
    await gateway.close();
    await Promise.all(followers.map((f) => f.stop()));
    await trades.close();
    await Promise.all(modes.map((m) => m.close()));
    await agent?.close();
    await outbox?.close();
    await engine.idle();
    fabric?.close();
    p.trust.close();
  };
  try {
    const resumed = await engine.resume();
    logger.info('engine resumed', {
      ...resumed,
      sqlitePath: config.sqlitePath,
      evmSigner: connector.signer,
      securities: securitiesOf(config, fabric),
      role: config.role,
    });
    const { url } = await gateway.listen();
    outbox?.start();
    await trades.start();
    await agent?.start();
    for (const f of followers)
      f.start(1000, (err) => logger.warn('ledger event follower failed; retrying', { stream: f.stream, error: err }));
    return {
      url,
      engine,
      close: async () => {
        await stopAll();
        p.store.close();
      },
    };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err; // runGateway closes the store
  }
}

function fatal(err: unknown): never {
  const config = err instanceof ConfigError;
  const line = {
    time: new Date().toISOString(),
    level: 'error',
    msg: config ? 'invalid gateway configuration' : 'gateway failed to start',
    ...(config ? { problems: err.problems } : { error: err instanceof Error ? err.message : String(err) }),
  };
  process.stderr.write(`${JSON.stringify(line)}\n`);
  process.exit(config ? 2 : 1);
}

/** Process entry point: starts, then stops cleanly on SIGTERM/SIGINT. */
export async function main(): Promise<void> {
  let running: RunningGateway;
  try {
    running = await runGateway(process.env);
  } catch (err) {
    fatal(err);
  }
  const logger = createLogger({ base: { component: 'process' } });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    running.close().then(
      () => {
        logger.info('stopped', { signal });
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('shutdown failed', { error: err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  logger.info('gateway started', { url: running.url, pid: process.pid });
}

if (require.main === module) void main();
