/**
 * Test-only: the buyer's and the seller's gateways in one process, each with its own database,
 * engine, HTLC mode and ledger connectors, talking through an in-process message hub. A gateway
 * can be stopped (as if killed) and restarted on the same database. Never use in product code.
 */
import * as path from 'node:path';
import { createTradeEngine, type TradeEngine } from '../../../trades/engine';
import type { LedgerConnector, LedgerEvent } from '../../../ledger/connector';
import type { LegName } from '../../../core/trade';
import { isTerminal } from '../../../core/state-machine';
import { openStore, type GatewayStore } from '../../../store';
import { actorOf, instructionOf } from '../../../../testing/engine-fakes';
import type { Trade, TradeInstruction } from '../../../core/trade';
import { createHtlcMode, type HtlcMode } from '../driver';
import { createMessageHub, type MessageHub } from './hub';
import { createSecretStore } from '../../../store/secrets';
import { newSecret } from '../secrets';
import type { HtlcConfig } from '../terms';

export type Party = 'BUYER' | 'SELLER';
export const PARTIES: readonly Party[] = ['BUYER', 'SELLER'];
const other = (p: Party): Party => (p === 'BUYER' ? 'SELLER' : 'BUYER');

/** One running gateway. */
export interface Gateway {
  readonly store: GatewayStore;
  readonly engine: TradeEngine;
  readonly mode: HtlcMode;
  readonly errors: unknown[];
}

/** What the pair needs. */
export interface PairOptions {
  readonly config: HtlcConfig;
  readonly connectorsOf: (party: Party) => Readonly<Record<LegName, LedgerConnector>>;
  /** Folder for the two databases. */
  readonly dir: string;
  readonly now?: () => number;
  readonly pollIntervalMs?: number;
  /** Passed to the HTLC mode: the leader waits for the counterparty's affirmation. */
  readonly awaitAffirmation?: boolean;
}

/** The two gateways. */
export class GatewayPair {
  readonly hub: MessageHub = createMessageHub();
  readonly #o: PairOptions;
  readonly #gateways = new Map<Party, Gateway>();
  /** Parties whose engines receive ledger events (see {@link route}). */
  readonly eventsTo = new Set<Party>(PARTIES);

  constructor(options: PairOptions) {
    this.#o = options;
    for (const p of PARTIES) this.start(p);
  }

  gw(party: Party): Gateway {
    const g = this.#gateways.get(party);
    if (!g) throw new Error(`${party} gateway is stopped`);
    return g;
  }

  /** Opens the party's database and starts its engine (no resume). */
  start(party: Party): Gateway {
    const store = openStore(path.join(this.#o.dir, `${party}.sqlite`), { party });
    const errors: unknown[] = [];
    const systemActor = actorOf(party, 'gateway');
    const mode = createHtlcMode({
      ...this.#o.config,
      messenger: this.hub.messengerFor(systemActor),
      secrets: createSecretStore(store, newSecret),
      ...(this.#o.now && { now: this.#o.now }),
      pollIntervalMs: this.#o.pollIntervalMs ?? 10,
      ...(this.#o.awaitAffirmation && { awaitAffirmation: true }),
      onError: (err) => errors.push(err),
    });
    const engine = createTradeEngine({ store, systemActor, modes: [mode], connectors: this.#o.connectorsOf(party) });
    const g = { store, engine, mode, errors };
    this.#gateways.set(party, g);
    this.hub.register(party, engine);
    return g;
  }

  /** Stops the party's gateway like a crash: loops end, the database closes, nothing is flushed. */
  async stop(party: Party): Promise<void> {
    const g = this.#gateways.get(party);
    if (!g) return;
    this.#gateways.delete(party);
    this.hub.register(party, { onMessage: () => Promise.reject(new Error(`${party} is down`)) });
    await g.mode.close();
    await g.engine.idle();
    g.store.close();
  }

  /** Starts the party's gateway again on its database and resumes. */
  async restart(party: Party): Promise<Gateway> {
    await this.stop(party);
    const g = this.start(party);
    await g.engine.resume();
    return g;
  }

  /** Submits the trade on both gateways and matches it on both. */
  async trade(
    tradeId: string,
    overrides: Partial<TradeInstruction> = {},
    parties: readonly Party[] = PARTIES,
  ): Promise<void> {
    for (const p of parties) {
      const side = p === 'BUYER' ? 'buy' : 'sell';
      const ins = instructionOf({ ...overrides, tradeId, side, counterparty: other(p) });
      await this.gw(p).engine.submit(actorOf(p), `key-${tradeId}`, ins);
    }
    for (const p of parties) {
      await this.gw(p).engine.counterpartyNotice(actorOf(other(p)), { tradeId, kind: 'matched' });
    }
  }

  /** Both sides' records of a trade once both are terminal (or after `timeoutMs`, as they are). */
  async final(tradeId: string, timeoutMs = 20_000): Promise<Readonly<Record<Party, Trade>>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [buyer, seller] = await Promise.all(PARTIES.map((p) => this.gw(p).engine.get(tradeId)));
      const done = buyer && seller && isTerminal(buyer.status) && isTerminal(seller.status);
      if (done || Date.now() > deadline) return { BUYER: buyer as Trade, SELLER: seller as Trade };
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits until `predicate` holds (polling), or throws after `timeoutMs`. */
  async until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Hands a ledger event to the running engines in {@link eventsTo}. */
  route(event: LedgerEvent): void {
    for (const p of this.eventsTo) {
      const g = this.#gateways.get(p);
      g?.engine.onLedgerEvent(event).catch((err: unknown) => g.errors.push(err));
    }
  }

  async close(): Promise<void> {
    for (const p of PARTIES) await this.stop(p);
  }
}
