/**
 * Builds the gateway process's parts from its config and its loaded trust material: the outbox of
 * gateway messaging (signed with the `peers` identity, delivered over mutual TLS), the HTLC mode
 * with the legs' ledgers, assets and parties' ledger addresses, the connectors by ledger name and
 * the balance reader. Kept apart from main.ts so the process file only orders start-up and shutdown.
 */
import { readFileSync } from 'node:fs';
import { createLedgerBalanceReader } from './trades/balances';
import { ConfigError, type GatewayConfig, type PeersConfig, type SettlementConfig } from './config/config';
import type { DirectoryView } from './trust/directory';
import type { TrustMaterial } from './trust/material';
import type { LedgerConnector } from './ledger/connector';
import type { LegName, SettlementModeName } from './core/trade';
import { connectFabricLedger, type FabricLedger } from './ledger/fabric/connect';
import type { Logger } from './core/log';
import { peerSigner } from './messaging/envelope';
import { createPeerOutbox, type PeerOutbox } from './messaging/outbox';
import type { PeerStore } from './messaging/store';
import { httpsPeerTransport } from './messaging/transport';
import { createHtlcMode, type HtlcMode } from './settlement/htlc/driver';
import { createSecretStore } from './store/secrets';
import { newSecret } from './settlement/htlc/secrets';
import type { GatewayStore } from './store';
import type { BalanceReader } from './trades/balances';
import { type TradeInstruction } from './core/trade';
import { TradeError } from './core/errors';
import { performAction } from './trades/journal';
import type { CrashPoint } from './core/crash-points';
import { escrowMatchingTerms } from './settlement/escrow-orchestrated/protocol';
import type { ManagerActions } from './settlement/escrow-orchestrated/manager';

/** The outbox of gateway messaging over HTTPS with mutual TLS. */
export function peerOutbox(
  config: GatewayConfig & { readonly peers: PeersConfig },
  parts: {
    readonly store: GatewayStore;
    readonly peers: PeerStore;
    readonly trust: TrustMaterial;
    readonly logger: Logger;
    readonly crash: CrashPoint;
  },
): PeerOutbox {
  const { peers } = config;
  const { directory, anchors } = parts.trust;
  const cert = readFileSync(peers.certFile, 'utf8');
  const key = readFileSync(peers.keyFile, 'utf8');
  return createPeerOutbox({
    store: parts.peers,
    transaction: parts.store.transaction,
    signer: peerSigner(cert, key),
    transport: httpsPeerTransport({
      urlOf: (party) => peers.urls[party] ?? directory.entry(party)?.gatewayUrl,
      cert,
      key,
      caOf: (party) => {
        const mspId = directory.entry(party)?.mspId;
        const pems = anchors.filter((a) => a.mspId === mspId).map((a) => a.pem);
        return mspId === undefined ? undefined : pems;
      },
      timeoutMs: peers.requestTimeoutSeconds * 1000,
    }),
    retryIntervalMs: peers.retryIntervalSeconds * 1000,
    onError: (err, context) => parts.logger.warn('gateway message not delivered yet', { ...context, error: err }),
    crashPoint: parts.crash,
  });
}

/**
 * The connector of each leg: cash on the EVM; securities on Fabric through `fabric`, or, with
 * `securities.ledger = "evm"`, as ERC-20 tokens through the EVM connector (the stand-in).
 */
export function connectorsOf(
  config: GatewayConfig,
  evm: LedgerConnector,
  fabric: LedgerConnector | undefined,
): Partial<Record<LegName, LedgerConnector>> {
  if (config.securities?.ledger === 'evm') return { cash: evm, securities: evm };
  return { cash: evm, ...(fabric && { securities: fabric }) };
}

/** ISIN → token of the EVM stand-in; undefined when securities are on Fabric (or nowhere). */
export function standInTokens(config: GatewayConfig): Readonly<Record<string, string>> | undefined {
  return config.securities?.ledger === 'evm' ? config.securities.instruments : undefined;
}

/**
 * Why an instruction could not settle here: a settlement mode this gateway does not run, a
 * currency other than the cash token's, or (when securities are held as EVM tokens) an ISIN
 * without a configured token.
 */
export function cannotSettle(
  config: GatewayConfig,
  currency: string,
  modes: readonly SettlementModeName[],
): (i: TradeInstruction) => string | undefined {
  return (i) => {
    if (!modes.includes(i.mode))
      return `mode ${i.mode} is not configured on this gateway (it runs: ${modes.join(', ') || 'none'})`;
    if (i.currency !== currency)
      return `currency ${i.currency} cannot settle here: the cash token stands for ${currency}`;
    const instruments = standInTokens(config);
    if (instruments && instruments[i.isin] === undefined) return `no securities token is configured for ISIN ${i.isin}`;
    return undefined;
  };
}

/** Settlement terms both gateways must share, compared like matching fields: who holds the HTLC secret, the escrow parties. */
export function matchingExtraTerms(config: GatewayConfig): (i: TradeInstruction) => Readonly<Record<string, string>> {
  return (i) => {
    if (i.mode === 'escrow_orchestrated') return escrowMatchingTerms(i);
    return i.mode === 'htlc' && config.settlement ? { htlcLeader: config.settlement.leader } : {};
  };
}

/** What the HTLC mode needs besides its config. */
export interface HtlcParts {
  readonly store: GatewayStore;
  readonly messenger: PeerOutbox;
  readonly directory: DirectoryView;
  /** Cash token address and the currency (token symbol) it stands for. */
  readonly cash: { readonly token: string; readonly currency: string };
  readonly logger: Logger;
}

/** The HTLC settlement mode (throws on T_L < T_F + Δ, which loadConfig already refuses). */
export function htlcMode(config: GatewayConfig, settlement: SettlementConfig, parts: HtlcParts): HtlcMode {
  const instruments = standInTokens(config);
  return createHtlcMode({
    leader: settlement.leader,
    timelocks: {
      leaderSeconds: settlement.leaderSeconds,
      followerSeconds: settlement.followerSeconds,
      deltaSeconds: settlement.deltaSeconds,
    },
    addressOf: (party, ledger) => {
      const entry = parts.directory.entry(party);
      // On Fabric a party holds securities as its gateway identity's account (directory `fabricAccount`).
      const address = ledger === 'fabric' ? entry?.fabricAccount : entry?.evmAddress;
      if (address === undefined) throw new Error(`party '${party}' has no ${ledger} account in the directory`);
      return address;
    },
    assets: {
      securities: (isin) => {
        if (!instruments) return isin; // the chaincode names an asset by its ISIN
        const token = instruments[isin];
        if (token === undefined) throw new Error(`no securities token is configured for ISIN ${isin}`);
        return token;
      },
      cash: (currency) => {
        if (currency !== parts.cash.currency) throw new Error(`no cash token for currency ${currency}`);
        return parts.cash.token;
      },
    },
    messenger: parts.messenger,
    // Lock only once the counterparty affirmed the same terms (its instruction can still be cancelled before).
    awaitAffirmation: true,
    secrets: createSecretStore(parts.store, newSecret),
    pollIntervalMs: settlement.pollIntervalMs,
    onError: (err, context) => parts.logger.warn('settlement step failed; retrying', { ...context, error: err }),
  });
}

/** The Fabric ledger when securities are held there (`securities.ledger = "fabric"`). */
export function fabricLedger(config: GatewayConfig, store: GatewayStore): FabricLedger | undefined {
  if (config.securities?.ledger !== 'fabric') return undefined;
  const { fabric } = config;
  // loadConfig refuses securities.ledger "fabric" without these.
  if (!fabric?.peer || !fabric.channel || !fabric.chaincode)
    throw new ConfigError(['fabric: peer, channel, chaincode']);
  return connectFabricLedger(
    { ...fabric, peer: fabric.peer, channel: fabric.channel, chaincode: fabric.chaincode },
    store.followers,
  );
}

/** Instruments the chaincode knows, remembered (an instrument is never deleted). */
export function unknownInstrument(fabric: FabricLedger): (isin: string) => Promise<string | undefined> {
  const known = new Set<string>();
  return async (isin) => {
    if (known.has(isin)) return undefined;
    let exists: boolean;
    try {
      exists = await fabric.connector.hasInstrument(isin);
    } catch (err) {
      throw new TradeError('LEDGER_UNAVAILABLE', `the Fabric peer did not answer: ${(err as Error).message}`, { isin });
    }
    if (!exists) return `the securities chaincode has no instrument ${isin}`;
    known.add(isin);
    return undefined;
  };
}

/** Why securities balances cannot be read, with the network's reason when its config gives one. */
function securitiesUnavailable(config: GatewayConfig): string {
  const base = 'no securities ledger is configured (securities.ledger "fabric" with fabric.peer, or "evm")';
  const reason = config.fabric?.unavailableReason;
  return reason ? `${base}; the Fabric network is unavailable: ${reason}` : base;
}

/** The process's balance reader: cash on the EVM; securities on Fabric, on the stand-in, or unavailable. */
export function balanceReader(
  config: GatewayConfig,
  parts: {
    readonly evm: LedgerConnector;
    readonly fabric: FabricLedger | undefined;
    readonly store: GatewayStore;
    /** Cash token address and the currency (token symbol) it stands for. */
    readonly cash: { readonly token: string; readonly currency: string };
    readonly directory: DirectoryView;
  },
): BalanceReader {
  const { fabric, directory } = parts;
  const tokens = standInTokens(config);
  return createLedgerBalanceReader({
    evm: parts.evm,
    token: parts.cash.token,
    currency: parts.cash.currency,
    store: parts.store,
    evmAddressOf: (party) => directory.entry(party)?.evmAddress,
    securitiesUnavailable: securitiesUnavailable(config),
    ...(tokens && { securityTokens: tokens }),
    ...(fabric && {
      fabric: {
        connector: fabric.connector,
        accountOf: (party: string) => directory.entry(party)?.fabricAccount,
        holdings: (account: string) => fabric.connector.holdings(account),
      },
    }),
  });
}

/** Journaled ledger actions outside the trade engine (the escrow manager's), over the store's journal. */
export function journalActions(
  store: GatewayStore,
  connectors: Partial<Record<LegName, LedgerConnector>>,
  crashPoint?: CrashPoint,
): ManagerActions {
  return {
    perform: (tradeId, leg, spec) => {
      const connector = connectors[leg];
      if (!connector) throw new ConfigError([`no ledger for the ${leg} leg`]);
      return performAction(store.journal, connector, { tradeId, leg }, spec, crashPoint);
    },
    actions: (tradeId) => store.journal.forTrade(tradeId),
  };
}
