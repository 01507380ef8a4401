/**
 * The gateway process: `loadConfig(process.env)` → store → EVM connector (and the Fabric connector
 * when securities are on Fabric) → trade engine (resumes
 * unfinished work first) → HTTPS API. Logs are JSON lines on stdout. SIGTERM/SIGINT stop the
 * listener, wait for background work and close the database. A bad configuration exits with code
 * 2 and one JSON line on stderr naming every problem; any other start-up failure exits with 1.
 *
 * Run: `DVP_GATEWAY_CONFIG=<file> npx tsx gateway/src/main.ts` (or `node gateway/dist/main.js`).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { certificateFingerprint } from '@dvp/certs';
import { cashTokenAbi } from '@dvp/cash-contracts';
import { createPublicClient, defineChain, getAddress, http, type Address, type Chain } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ConfigError, loadConfig, type EvmConfig, type GatewayConfig } from './config/config';
import { createTradeEngine, type TradeEngine } from './trades/engine';
import type { LedgerEvent } from './ledger/connector';
import { createEvmConnector } from './ledger/evm/connector';
import { createLogger, type Logger } from './core/log';
import { createGatewayMetrics } from './core/metrics';
import type { DirectoryView } from './trust/directory';
import { createGateway } from './api/server';
import { openStore, type GatewayStore } from './store';
import type { Actor } from './core/trade';
import { createTradeCoordinator } from './trades/coordinator';
import type { ReceivedMessage } from './messaging/inbox';
import { PeerStore } from './messaging/store';
import {
  balanceReader,
  cannotSettle,
  connectorsOf,
  fabricLedger,
  htlcMode,
  peerOutbox,
  unknownInstrument,
} from './wiring';

/** A started gateway process (without the signal handling of {@link main}). */
export interface RunningGateway {
  readonly url: string;
  readonly engine: TradeEngine;
  /** Stops the listener and reload timers, waits for background work, closes the database. */
  close(): Promise<void>;
}

type RequiredEvm = Required<EvmConfig>;

/** The EVM section the process needs (the config schema leaves it optional for the HTTP layer). */
function requireEvm(config: GatewayConfig): RequiredEvm {
  const evm = config.evm;
  const problems = [
    ...(evm ? [] : ['evm: is required to run the gateway process (rpcUrl, keyFile, chainId, contracts)']),
    ...(evm && evm.chainId === undefined ? ['evm.chainId: is required to run the gateway process'] : []),
    ...(evm && evm.contracts === undefined ? ['evm.contracts: is required to run the gateway process'] : []),
  ];
  if (problems.length) throw new ConfigError(problems);
  return evm as RequiredEvm;
}

function readEvmKey(file: string): `0x${string}` {
  const text = readFileSync(file, 'utf8').trim();
  const hex = text.startsWith('0x') ? text : `0x${text}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ConfigError([`evm.keyFile: '${file}' does not hold a 32-byte hex private key`]);
  }
  return hex as `0x${string}`;
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

/** Checks the node's chain id and reads the token's symbol (the currency reported). */
async function probeChain(evm: RequiredEvm, chain: Chain): Promise<string> {
  const client = createPublicClient({ chain, transport: http(evm.rpcUrl, { retryCount: 0, timeout: 10_000 }) });
  const id = await client.getChainId().catch((err: unknown) => {
    throw new Error(`EVM node ${evm.rpcUrl} did not answer: ${(err as Error).message}`, { cause: err });
  });
  if (id !== evm.chainId) throw new ConfigError([`evm.chainId: is ${evm.chainId} but ${evm.rpcUrl} reports ${id}`]);
  return client.readContract({ address: getAddress(evm.contracts.token), abi: cashTokenAbi, functionName: 'symbol' });
}

/** Starts everything from `env`; throws {@link ConfigError} on a bad configuration. */
export async function runGateway(env: Readonly<Record<string, string | undefined>>): Promise<RunningGateway> {
  const config = loadConfig(env);
  const evm = requireEvm(config);
  const logger = createLogger({ level: config.log.level, base: { party: config.partyId } });
  const account = privateKeyToAccount(readEvmKey(evm.keyFile));
  const chain = defineChain({
    id: evm.chainId,
    name: `evm-${evm.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [evm.rpcUrl] } },
  });
  const currency = evm.currency ?? (await probeChain(evm, chain));
  if (evm.currency !== undefined) await probeChain(evm, chain);
  mkdirSync(dirname(config.sqlitePath), { recursive: true, mode: 0o700 });
  const store = openStore(config.sqlitePath);
  try {
    return await serve(config, evm, { logger, store, chain, account, currency });
  } catch (err) {
    store.close();
    throw err;
  }
}

interface Parts {
  readonly logger: Logger;
  readonly store: GatewayStore;
  readonly chain: Chain;
  readonly account: ReturnType<typeof privateKeyToAccount>;
  readonly currency: string;
}

async function serve(config: GatewayConfig, evm: RequiredEvm, p: Parts): Promise<RunningGateway> {
  const { logger, store } = p;
  const fabric = fabricLedger(config, store);
  const connector = createEvmConnector({
    rpcUrl: evm.rpcUrl,
    chain: p.chain,
    account: p.account,
    contracts: { htlc: getAddress(evm.contracts.htlc) as Address, escrow: getAddress(evm.contracts.escrow) as Address },
    followers: store.followers,
  });
  // The directory is loaded by the HTTP layer; everything below asks for it late.
  const late: { directory?: DirectoryView } = {};
  const directory = (): DirectoryView | undefined => late.directory;
  const peers = new PeerStore(store.db);
  const outbox = config.peers && peerOutbox({ ...config, peers: config.peers }, { store, peers, directory, logger });
  if (!outbox) logger.warn('gateway messaging is off (no "peers" section): trades stay unmatched');
  const cash = { token: evm.contracts.token, currency: p.currency };
  const htlc =
    config.settlement &&
    outbox &&
    htlcMode(config, config.settlement, { store, messenger: outbox, directory, cash, logger });
  const metrics = createGatewayMetrics();
  const engine = createTradeEngine({
    store,
    metrics,
    cannotSettle: cannotSettle(config, p.currency),
    ...(fabric && { unknownInstrument: unknownInstrument(fabric) }),
    systemActor: systemActor(config),
    modes: htlc ? [htlc] : [],
    connectors: connectorsOf(config, connector, fabric?.connector),
    isKnownParty: (party) => late.directory?.has(party) ?? false,
    onError: (err, context) => logger.error('settlement work failed', { ...context, error: err }),
  });
  const coordinator =
    outbox &&
    createTradeCoordinator({
      self: config.partyId,
      engine,
      store: peers,
      outbox,
      // Both gateways must agree on who holds the secret: compared like a matching field.
      extraTerms: (i) => (i.mode === 'htlc' && config.settlement ? { htlcLeader: config.settlement.leader } : {}),
      onError: (err, c) => logger.warn('trade messaging failed', { ...c, error: err }),
    });
  const balances = balanceReader(config, evm.contracts.token, {
    evm: connector,
    fabric,
    store,
    currency: p.currency,
    directory: () => late.directory,
  });
  // Built (directory loaded) before anything resumes, so resumed trades find their parties.
  const gateway = await createGateway({
    config,
    trades: coordinator ?? engine,
    balances,
    logger,
    metrics,
    ...(coordinator && { peer: { store: peers, handle: (m: ReceivedMessage) => coordinator.handle(m) } }),
  });
  late.directory = gateway.directory;
  const onEvent = (event: LedgerEvent) => engine.onLedgerEvent(event);
  const followers = [connector.follow('htlc', onEvent), ...(fabric ? [fabric.connector.follow('htlc', onEvent)] : [])];
  /** Stops everything that may still write to the store, in dependency order; the store last. */
  const stopAll = async (): Promise<void> => {
    await gateway.close();
    await Promise.all(followers.map((f) => f.stop()));
    await coordinator?.close();
    await htlc?.close();
    await outbox?.close();
    await engine.idle();
    fabric?.close();
  };
  try {
    const resumed = await engine.resume();
    logger.info('engine resumed', {
      ...resumed,
      sqlitePath: config.sqlitePath,
      evmSigner: connector.signer,
      securities: fabric
        ? `fabric ${config.fabric?.peer?.endpoint} as ${fabric.connector.signer}`
        : (config.securities?.ledger ?? 'none'),
    });
    const { url } = await gateway.listen();
    outbox?.start();
    await coordinator?.start();
    for (const f of followers)
      f.start(1000, (err) => logger.warn('ledger event follower failed; retrying', { stream: f.stream, error: err }));
    return {
      url,
      engine,
      close: async () => {
        await stopAll();
        store.close();
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
