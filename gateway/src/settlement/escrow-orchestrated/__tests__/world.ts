/**
 * Test-only: an orchestrated escrow in one process. Both ledgers in memory with a shared clock,
 * the two banks' gateways (engine + mode), the escrow manager and the notary, each on its own
 * database, talking through an in-process hub whose sends retry until the receiver is up (as
 * gateway messaging's outbox does; a stopped sender's deliveries end with it). Any party can be
 * stopped like a crash and restarted on its database. The observer is a list of the records it
 * was sent. Never use in product code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LedgerName, LegName, Trade, TradeInstruction } from '../../../core/trade';
import { isTerminal } from '../../../core/state-machine';
import type { LedgerConnector } from '../../../ledger/connector';
import { openStore, type GatewayStore } from '../../../store';
import { ManagerRecords } from '../../../store/escrow-manager';
import { NotaryRecords } from '../../../store/notary';
import { createTradeEngine, type TradeEngine } from '../../../trades/engine';
import { resumeActions } from '../../../trades/journal';
import { matchingTerms } from '../../../trades/matching';
import { journalActions } from '../../../wiring';
import { actorOf, instructionOf } from '../../../../testing/engine-fakes';
import { MemoryChain } from '../../htlc/__tests__/memory-htlc';
import { newSecret } from '../../htlc/secrets';
import type { SettlementMessenger } from '../../messenger';
import type { SettlementMessage } from '../../mode';
import { createNotary, type Notary, type NotaryRecordsPort, type NotaryRule } from '../../notary/notary';
import { parseRecord, type ObserverRecord } from '../../observer/record';
import { createEscrowOrchestratedMode, type EscrowOrchestratedMode } from '../bank';
import { createEscrowManager, MANAGER_RESUME, type EscrowManager } from '../manager';
import { escrowMatchingTerms, type EscrowLedgers } from '../protocol';

export const DELTA = 600;
export const GRACE = 5;
export const SHARES = 1_000n;
export const CASH = 10_000_000n;
export const QTY = 100n;
export const AMOUNT = 100n * 12_345n;
export const ISIN = 'US0378331005';
export const SEC = `sec:${ISIN}`;
export const EUR = 'cash:EUR';
export const BANKS = ['BUYER', 'SELLER'] as const;
export type Bank = (typeof BANKS)[number];

export const addr = (party: string, ledger: LedgerName): string => `${party.toLowerCase()}@${ledger}`;

interface BankGateway {
  readonly store: GatewayStore;
  readonly engine: TradeEngine;
  readonly mode: EscrowOrchestratedMode;
}

type Receiver = (m: SettlementMessage) => Promise<void>;

/** The ledgers, the parties and their messages. */
export class EscrowWorld {
  t = 1_700_000_000;
  readonly now = (): number => this.t;
  readonly fabric = new MemoryChain('fabric', this.now);
  readonly evm = new MemoryChain('evm', this.now);
  readonly dir = mkdtempSync(path.join(tmpdir(), 'dvp-escrow-'));
  readonly errors: unknown[] = [];
  /** Records the observer received, parsed (a malformed one throws in the test). */
  readonly records: (ObserverRecord & { readonly tradeId: string; readonly from: string })[] = [];
  /** Every message delivered, in order. */
  readonly delivered: (SettlementMessage & { readonly to: string })[] = [];
  readonly banks = new Map<Bank, BankGateway>();
  manager: { store: GatewayStore; service: EscrowManager } | undefined;
  notary: { store: GatewayStore; service: Notary } | undefined;
  readonly #receivers = new Map<string, Receiver>();
  #closed = false;

  constructor(readonly rule: NotaryRule = { decide: 'rule', denyParties: [] }) {
    this.fabric.mint(addr('SELLER', 'fabric'), SEC, SHARES);
    this.evm.mint(addr('BUYER', 'evm'), EUR, CASH);
    this.#receivers.set('OBSERVER', async (m) => {
      if (m.type === 'record') this.records.push({ ...parseRecord(m.body), tradeId: m.tradeId, from: m.from.party });
    });
    for (const b of BANKS) this.startBank(b);
    // The ledgers' events reach the running banks, as their followers would hand them over.
    for (const chain of [this.fabric, this.evm]) {
      chain.onEvent((e) => {
        for (const g of this.banks.values()) g.engine.onLedgerEvent(e).catch((err: unknown) => this.errors.push(err));
      });
    }
    this.startManager();
    this.startNotary();
  }

  connectors(party: string): Record<LegName, LedgerConnector> {
    return { securities: this.fabric.connector(addr(party, 'fabric')), cash: this.evm.connector(addr(party, 'evm')) };
  }

  ledgers(party: string): EscrowLedgers {
    const c = this.connectors(party);
    return { connector: (leg) => c[leg], accountOf: addr, assetOf: (leg) => (leg === 'securities' ? SEC : EUR) };
  }

  /** A messenger from `party` that retries (every 10 ms) until the receiver is up, as the outbox does. */
  messenger(party: string): SettlementMessenger {
    const from = actorOf(party, 'gateway');
    return {
      send: async (to, message) => {
        for (;;) {
          const receiver = this.#receivers.get(to);
          // A stopped sender's deliveries die with it, as a killed process's would.
          if (this.#closed || !this.#receivers.has(party)) throw new Error(`${party} is down`);
          if (receiver) {
            const full = { ...message, from };
            await receiver(full);
            this.delivered.push({ ...full, to });
            return;
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      },
    };
  }

  startBank(bank: Bank): BankGateway {
    const store = openStore(path.join(this.dir, `${bank}.sqlite`), { party: bank });
    const mode = createEscrowOrchestratedMode({
      messenger: this.messenger(bank),
      termsOf: (t: Trade) => matchingTerms(t.owner, t.instruction, escrowMatchingTerms(t.instruction)),
      accountOf: addr,
      assetOf: (leg) => (leg === 'securities' ? SEC : EUR),
      deltaSeconds: DELTA,
      graceSeconds: GRACE,
      endEventWaitMs: 300,
      now: this.now,
      pollIntervalMs: 10,
      onError: (err) => this.errors.push(err),
    });
    const engine = createTradeEngine({
      store,
      systemActor: actorOf(bank, 'gateway'),
      modes: [mode],
      connectors: this.connectors(bank),
    });
    const g = { store, engine, mode };
    this.banks.set(bank, g);
    this.#receivers.set(bank, (m) => engine.onMessage(m));
    return g;
  }

  startManager(): EscrowManager {
    const store = openStore(path.join(this.dir, 'MANAGER.sqlite'), { party: 'MANAGER' });
    const service = createEscrowManager({
      party: 'MANAGER',
      records: new ManagerRecords(store.db, 'MANAGER'),
      actions: journalActions(store, this.connectors('MANAGER')),
      ledgers: this.ledgers('MANAGER'),
      messenger: this.messenger('MANAGER'),
      deltaSeconds: DELTA,
      newSecret,
      now: this.now,
      pollIntervalMs: 10,
      onError: (err) => this.errors.push(err),
    });
    this.manager = { store, service };
    this.#receivers.set('MANAGER', (m) => service.onMessage(m));
    return service;
  }

  /** Starts the notary on its database; `wrap` may stand in for its records (to fail one call). */
  startNotary(wrap: (r: NotaryRecordsPort) => NotaryRecordsPort = (r) => r): Notary {
    const store = openStore(path.join(this.dir, 'NOTARY.sqlite'), { party: 'NOTARY' });
    const service = createNotary({
      party: 'NOTARY',
      records: wrap(new NotaryRecords(store.db, 'NOTARY')),
      ledgers: this.ledgers('NOTARY'),
      messenger: this.messenger('NOTARY'),
      rule: this.rule,
      onError: (err) => this.errors.push(err),
    });
    this.notary = { store, service };
    this.#receivers.set('NOTARY', (m) => service.onMessage(m));
    service.start();
    return service;
  }

  /** Stops a party like a crash: its loops end, its database closes, messages to it wait. */
  async stop(party: Bank | 'MANAGER' | 'NOTARY'): Promise<void> {
    this.#receivers.delete(party);
    if (party === 'MANAGER' && this.manager) {
      await this.manager.service.close();
      this.manager.store.close();
      this.manager = undefined;
    } else if (party === 'NOTARY' && this.notary) {
      await this.notary.service.close();
      this.notary.store.close();
      this.notary = undefined;
    } else if (party !== 'MANAGER' && party !== 'NOTARY') {
      const g = this.banks.get(party);
      if (!g) return;
      this.banks.delete(party);
      await g.mode.close();
      await g.engine.idle();
      g.store.close();
    }
  }

  /** Restarts a party on its database: unfinished journal actions first, then its loops. */
  async restart(party: Bank | 'MANAGER'): Promise<void> {
    await this.stop(party);
    if (party === 'MANAGER') {
      const manager = this.startManager();
      await resumeActions(this.manager!.store.journal, this.connectors('MANAGER'), MANAGER_RESUME);
      manager.start();
      return;
    }
    await this.startBank(party).engine.resume();
  }

  bank(b: Bank): BankGateway {
    const g = this.banks.get(b);
    if (!g) throw new Error(`${b} is stopped`);
    return g;
  }

  /** Both banks instruct and match an orchestrated trade. */
  async trade(
    tradeId: string,
    escrow: TradeInstruction['escrow'] = { manager: 'MANAGER' },
    over: Partial<TradeInstruction> = {},
  ): Promise<void> {
    for (const b of BANKS) {
      const side = b === 'BUYER' ? 'buy' : 'sell';
      const counterparty = b === 'BUYER' ? 'SELLER' : 'BUYER';
      const deadline = this.t + 300;
      const ins = instructionOf({
        tradeId,
        side,
        counterparty,
        mode: 'escrow_orchestrated',
        settlementDeadline: deadline,
        ...over,
        ...(escrow && { escrow }),
      });
      await this.bank(b).engine.submit(actorOf(b), `key-${tradeId}`, ins);
    }
    for (const b of BANKS) {
      await this.bank(b).engine.counterpartyNotice(actorOf(b === 'BUYER' ? 'SELLER' : 'BUYER'), {
        tradeId,
        kind: 'matched',
      });
    }
  }

  async status(b: Bank, tradeId: string): Promise<Trade> {
    return this.bank(b).engine.get(tradeId);
  }

  /** The manager dies (for good, unless restarted) just before preparing its release on `ledger`. */
  async killManagerBeforeRelease(ledger: 'fabric' | 'evm'): Promise<void> {
    this[ledger].crash = {
      signer: `manager@${ledger}`,
      kind: 'release',
      point: 'before-prepare',
      then: () => void this.stop('MANAGER'),
    };
  }

  /** Waits until the manager is stopped and `bank` has its decision on `tradeId`; the decision's detail. */
  async decisionAt(bank: Bank, tradeId: string): Promise<Readonly<Record<string, string>>> {
    await this.until(() => this.manager === undefined, 'the manager stopped');
    const decision = async () => (await this.status(bank, tradeId)).timeline.find((s) => s.event === 'escrow_decision');
    await this.until(async () => (await decision()) !== undefined, 'decision');
    return (await decision())?.detail ?? {};
  }

  /** Waits until `predicate` holds (polling every 10 ms), or throws after `timeoutMs`. */
  async until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 4_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) {
        const last = this.errors.slice(-3).map((e) => (e instanceof Error ? e.message : String(e)));
        throw new Error(`timed out waiting for ${what}; last errors: ${last.join(' | ') || 'none'}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Both banks' trades once terminal. */
  async final(tradeId: string, timeoutMs = 4_000): Promise<Readonly<Record<Bank, Trade>>> {
    await this.until(
      async () => (await Promise.all(BANKS.map((b) => this.status(b, tradeId)))).every((t) => isTerminal(t.status)),
      `${tradeId} terminal on both banks`,
      timeoutMs,
    );
    const [BUYER, SELLER] = await Promise.all(BANKS.map((b) => this.status(b, tradeId)));
    return { BUYER: BUYER!, SELLER: SELLER! };
  }

  balances(): Record<string, bigint> {
    return {
      sellerShares: this.fabric.balanceOf(addr('SELLER', 'fabric'), SEC),
      buyerShares: this.fabric.balanceOf(addr('BUYER', 'fabric'), SEC),
      buyerCash: this.evm.balanceOf(addr('BUYER', 'evm'), EUR),
      sellerCash: this.evm.balanceOf(addr('SELLER', 'evm'), EUR),
    };
  }

  /** Conservation on both ledgers: free balances plus what escrows hold equal what was minted. */
  expectConserved(): void {
    expect(this.fabric.supply(SEC)).toBe(SHARES);
    expect(this.evm.supply(EUR)).toBe(CASH);
  }

  /** No escrow still holds anything. */
  expectEscrowsEmpty(): void {
    for (const chain of [this.fabric, this.evm]) {
      for (const e of chain.escrow.escrows.values()) expect(e.state).not.toBe('held');
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const b of BANKS) await this.stop(b);
    await this.stop('MANAGER');
    await this.stop('NOTARY');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
