/**
 * The process parts of the orchestrated escrow (settlement/escrow-orchestrated/README.md): the
 * banks' mode, and the parties of their own a gateway may run instead of a bank's trades (config
 * `role`): the escrow manager, a notary, an observer. Each is built from the config, the store,
 * the ledgers and the directory; each takes the verified messages addressed to it. Kept apart from
 * wiring.ts (the bank's HTLC and balances) so each file stays about one thing.
 */
import type { GatewayConfig } from './config/config';
import { ConfigError } from './config/config';
import type { Logger } from './core/log';
import type { LedgerName, LegName, Trade } from './core/trade';
import type { LedgerConnector } from './ledger/connector';
import { signatureValid, type PeerEnvelope } from './messaging/envelope';
import type { ReceivedMessage } from './messaging/inbox';
import type { SettlementMessenger } from './settlement/messenger';
import { createEscrowOrchestratedMode, type EscrowOrchestratedMode } from './settlement/escrow-orchestrated/bank';
import { createEscrowManager, MANAGER_RESUME, type EscrowManager } from './settlement/escrow-orchestrated/manager';
import { escrowMatchingTerms, type EscrowLedgers, type EscrowTerms } from './settlement/escrow-orchestrated/protocol';
import { newSecret } from './settlement/htlc/secrets';
import { createNotary, type Notary } from './settlement/notary/notary';
import { createObserver, type Observer } from './settlement/observer/observer';
import type { GatewayStore } from './store';
import { ManagerRecords } from './store/escrow-manager';
import { NotaryRecords } from './store/notary';
import { createObserverLog } from './store/observer';
import { resumeActions } from './trades/journal';
import { matchingTerms } from './trades/matching';
import type { DirectoryView } from './trust/directory';
import { journalActions, standInTokens } from './wiring';
import type { CrashPoint } from './core/crash-points';

/** What the escrow parts need besides the config. */
export interface EscrowParts {
  readonly store: GatewayStore;
  readonly messenger: SettlementMessenger;
  readonly directory: DirectoryView;
  readonly connectors: Partial<Record<LegName, LedgerConnector>>;
  /** Cash token address and the currency it stands for. */
  readonly cash: { readonly token: string; readonly currency: string };
  readonly logger: Logger;
  /** Tests only (core/crash-points.ts). */
  readonly crashPoint?: CrashPoint;
}

/** A party's account on a ledger, from the directory (Fabric: its gateway identity's account). */
export function accountOf(directory: DirectoryView): (party: string, ledger: LedgerName) => string {
  return (party, ledger) => {
    const entry = directory.entry(party);
    const account = ledger === 'fabric' ? entry?.fabricAccount : entry?.evmAddress;
    if (account === undefined) throw new Error(`party '${party}' has no ${ledger} account in the directory`);
    return account;
  };
}

/** The asset of a leg: the chaincode's ISIN or the stand-in's token; the cash token. */
export function assetOf(config: GatewayConfig, cash: EscrowParts['cash']): (leg: LegName, t: EscrowTerms) => string {
  const tokens = standInTokens(config);
  return (leg, t) => {
    if (leg === 'cash') {
      if (t.currency !== cash.currency) throw new Error(`no cash token for currency ${t.currency}`);
      return cash.token;
    }
    if (!tokens) return t.isin;
    const token = tokens[t.isin];
    if (token === undefined) throw new Error(`no securities token is configured for ISIN ${t.isin}`);
    return token;
  };
}

function ledgersOf(config: GatewayConfig, p: EscrowParts): EscrowLedgers {
  return {
    connector: (leg) => {
      const c = p.connectors[leg];
      if (!c) throw new ConfigError([`no ledger is configured for the ${leg} leg`]);
      return c;
    },
    accountOf: accountOf(p.directory),
    assetOf: assetOf(config, p.cash),
  };
}

const warn =
  (logger: Logger, msg: string) =>
  (err: unknown, context: Readonly<Record<string, string>>): void =>
    logger.warn(msg, { ...context, error: err });

/** A bank's orchestrated-escrow mode. */
export function escrowMode(config: GatewayConfig, p: EscrowParts): EscrowOrchestratedMode {
  return createEscrowOrchestratedMode({
    messenger: p.messenger,
    termsOf: (t: Trade) => matchingTerms(t.owner, t.instruction, escrowMatchingTerms(t.instruction)),
    accountOf: accountOf(p.directory),
    assetOf: assetOf(config, p.cash),
    deltaSeconds: config.escrow.deltaSeconds,
    graceSeconds: config.escrow.graceSeconds,
    awaitAffirmation: true,
    pollIntervalMs: config.escrow.pollIntervalMs,
    onError: warn(p.logger, 'escrow settlement step failed; retrying'),
  });
}

/** A running party of its own: what it serves the API, and its messages. */
export interface Agent {
  readonly manager?: EscrowManager;
  readonly notary?: Notary;
  readonly observer?: Observer;
  handle(message: ReceivedMessage): Promise<void>;
  /** After start-up: unfinished ledger actions settled, loops running. */
  start(): Promise<void>;
  close(): Promise<void>;
}

function managerAgent(config: GatewayConfig, p: EscrowParts): Agent {
  const manager = createEscrowManager({
    party: config.partyId,
    records: new ManagerRecords(p.store.db, config.partyId),
    actions: journalActions(p.store, p.connectors, p.crashPoint),
    ledgers: ledgersOf(config, p),
    messenger: p.messenger,
    deltaSeconds: config.escrow.deltaSeconds,
    newSecret,
    pollIntervalMs: config.escrow.pollIntervalMs,
    onError: warn(p.logger, 'escrow manager step failed; retrying'),
  });
  return {
    manager,
    handle: (m) => manager.onMessage(settlementMessage(m)),
    start: async () => {
      // A release never sent is decided again by the manager's loop (its first one reveals the secret).
      const resumed = await resumeActions(p.store.journal, p.connectors, MANAGER_RESUME);
      for (const f of resumed.failed) p.logger.warn('journal action not resumed', { ...f });
      manager.start();
    },
    close: () => manager.close(),
  };
}

function notaryAgent(config: GatewayConfig, p: EscrowParts): Agent {
  const rule = config.notary ?? { decide: 'rule' as const, denyParties: [] };
  const notary = createNotary({
    party: config.partyId,
    records: new NotaryRecords(p.store.db, config.partyId),
    ledgers: ledgersOf(config, p),
    messenger: p.messenger,
    rule,
    onError: warn(p.logger, 'notary step failed'),
    ...(p.crashPoint && { crashPoint: p.crashPoint }),
  });
  return {
    notary,
    handle: (m) => notary.onMessage(settlementMessage(m)),
    start: async () => notary.start(),
    close: () => notary.close(),
  };
}

function observerAgent(p: EscrowParts): Agent {
  const byLedger: Partial<Record<LedgerName, LedgerConnector>> = {};
  for (const c of Object.values(p.connectors)) if (c) byLedger[c.ledger] = c;
  const observer = createObserver({
    store: createObserverLog(p.store.db),
    connectors: byLedger,
    verifySignature: (json) => signatureValid(JSON.parse(json) as PeerEnvelope),
  });
  return {
    observer,
    handle: (m) => observer.onMessage({ ...settlementMessage(m), envelope: m.envelope, hash: m.hash }),
    start: async () => undefined,
    close: async () => undefined,
  };
}

function settlementMessage(m: ReceivedMessage): {
  tradeId: string;
  from: ReceivedMessage['signer'];
  type: string;
  body: Readonly<Record<string, string>>;
} {
  return { tradeId: m.envelope.tradeId, from: m.signer, type: m.envelope.type, body: m.envelope.body };
}

/** The party of its own this gateway runs (config `role`), or undefined for a bank. */
export function agentOf(config: GatewayConfig, p: EscrowParts): Agent | undefined {
  switch (config.role) {
    case 'bank':
      return undefined;
    case 'escrow-manager':
      return managerAgent(config, p);
    case 'notary':
      return notaryAgent(config, p);
    case 'observer':
      return observerAgent(p);
  }
}
