/**
 * The orchestrated escrow, a bank's side (README.md): a settlement mode under the trade engine.
 * Once the counterparty affirmed the terms, the bank registers the trade with the escrow manager
 * named in them, checks the manager's instructions against the terms, deposits its leg (journaled)
 * and tells the manager. Then it follows the decision: a commit's secret (from the manager, or
 * seen on either ledger) releases both legs, by the manager or, after a grace period, by the bank
 * itself; an abort, or no decision by the escrows' expiry, returns its deposit. One loop per trade
 * reads where it stands from the timeline, the journal and the ledgers (bank-steps.ts).
 */
import { isTerminal } from '../../core/state-machine';
import { canonicalHash } from '../../core/canonical';
import { AFFIRMED_EVENT, type LedgerName, type LegName, type Trade } from '../../core/trade';
import type { LedgerEvent } from '../../ledger/connector';
import { TradeLoops, type Next } from '../loops';
import type { SettlementMessenger } from '../messenger';
import { BackgroundSender } from './sender';
import type { SettlementContext, SettlementMessage, SettlementMode } from '../mode';
import { ESCROW_EVENTS, progressOf, step, type BankRun, type LedgerEnd } from './bank-steps';
import {
  escrowTermsOf,
  opens,
  parseDecision,
  parseInstructions,
  ProtocolError,
  type DecisionMessage,
  type EscrowTerms,
} from './protocol';

/** Options of {@link createEscrowOrchestratedMode}. */
export interface EscrowModeOptions {
  readonly messenger: SettlementMessenger;
  /** The trade's matching terms (as both banks hashed them), escrow parties included. */
  readonly termsOf: (trade: Trade) => Readonly<Record<string, string>>;
  /** A party's account on a ledger (directory `fabricAccount` / `evmAddress`). */
  readonly accountOf: (party: string, ledger: LedgerName) => string;
  /** The asset of a leg (chaincode ISIN or stand-in token; the currency's token). */
  readonly assetOf: (leg: LegName, terms: EscrowTerms) => string;
  /** Δ: the least time between the decision deadline and the escrows' expiry this bank accepts. */
  readonly deltaSeconds: number;
  /** After a commit, how long the bank leaves the releases to the manager; default 5 s. */
  readonly graceSeconds?: number;
  /**
   * How long a release or return seen on a ledger waits for the followers' event naming its
   * transaction before the step is recorded without it; default 3000 ms (followers read every second).
   */
  readonly endEventWaitMs?: number;
  /** Register only once the counterparty affirmed the same terms; default false (in-process tests). */
  readonly awaitAffirmation?: boolean;
  readonly now?: () => number;
  readonly pollIntervalMs?: number;
  readonly onError?: (err: unknown, context: Readonly<Record<string, string>>) => void;
}

/** The mode plus loop control. */
export interface EscrowOrchestratedMode extends SettlementMode {
  readonly mode: 'escrow_orchestrated';
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createEscrowOrchestratedMode(options: Readonly<EscrowModeOptions>): EscrowOrchestratedMode {
  return new EscrowOrchestrated(options);
}

class EscrowOrchestrated implements EscrowOrchestratedMode {
  readonly mode = 'escrow_orchestrated' as const;
  readonly #o: Readonly<EscrowModeOptions>;
  readonly #now: () => number;
  readonly #loops: TradeLoops;
  /** Escrow ids → trade id, for waking a trade on a ledger event. */
  readonly #watch = new Map<string, string>();
  /**
   * Escrow ids (lower case) → the transaction that released or returned them, as the followers or
   * this bank's own action reported it, for the timeline. Kept in memory: a step recorded after a
   * restart whose event was handled before it names no transaction.
   */
  readonly #ends = new Map<string, LedgerEnd>();
  /** Escrow ids → when (wall clock, ms) a pass first found them ended without knowing the transaction. */
  readonly #endSeen = new Map<string, number>();
  readonly #sender: BackgroundSender;

  constructor(options: Readonly<EscrowModeOptions>) {
    this.#o = options;
    this.#now = options.now ?? ((): number => Math.floor(Date.now() / 1000));
    this.#sender = new BackgroundSender(options.messenger, options.onError);
    this.#loops = new TradeLoops({
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      onError: (err, tradeId) => options.onError?.(err, { trade: tradeId, mode: 'escrow_orchestrated' }),
      onEnd: (tradeId) => {
        for (const [ref, id] of this.#watch) {
          if (id !== tradeId) continue;
          this.#watch.delete(ref);
          this.#ends.delete(ref);
          this.#endSeen.delete(ref);
        }
      },
    });
  }

  start(ctx: SettlementContext, trade: Trade): Promise<void> {
    return this.#drive(ctx, trade.tradeId);
  }

  async resume(ctx: SettlementContext, trade: Trade): Promise<void> {
    void this.#drive(ctx, trade.tradeId);
  }

  async onLedgerEvent(_ctx: SettlementContext, event: LedgerEvent): Promise<void> {
    const ref = event.ref.toLowerCase();
    const tradeId = this.#watch.get(ref);
    if (tradeId === undefined) return;
    if (event.kind === 'released' || event.kind === 'returned') {
      this.#ends.set(ref, { txId: event.txId, block: event.block });
    }
    this.#loops.wake(tradeId);
  }

  /** Instructions and the decision, from the manager the terms name; anything else is ignored. */
  async onMessage(ctx: SettlementContext, m: SettlementMessage): Promise<void> {
    const trade = ctx.trade(m.tradeId);
    if (isTerminal(trade.status)) return;
    const termsMap = this.#o.termsOf(trade);
    const terms = escrowTermsOf(termsMap);
    if (m.from.party !== terms.manager) return;
    try {
      if (m.type === 'instructions') this.#instructions(ctx, trade, canonicalHash(termsMap), m.body);
      if (m.type === 'decision') this.#decision(ctx, trade, canonicalHash(termsMap), m.body);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.#refuse(ctx, trade, `${m.type}_refused`, err.message);
    }
    this.#loops.wake(m.tradeId);
  }

  idle(): Promise<void> {
    return this.#loops.idle();
  }

  async close(): Promise<void> {
    await this.#loops.close();
    await this.#sender.settled();
  }

  #instructions(ctx: SettlementContext, trade: Trade, termsHash: string, body: Readonly<Record<string, string>>): void {
    if (progressOf(trade).instructions) return; // the first accepted instructions stand
    const i = parseInstructions(body);
    const terms = escrowTermsOf(this.#o.termsOf(trade));
    if (i.termsHash !== termsHash) throw new ProtocolError('the instructions are for other terms');
    if (i.decisionDeadline > terms.deadline) {
      throw new ProtocolError(`decision deadline ${i.decisionDeadline} is after the settlement deadline`);
    }
    if (i.expiry < i.decisionDeadline + this.#o.deltaSeconds) {
      throw new ProtocolError(
        `expiry ${i.expiry} leaves less than Δ = ${this.#o.deltaSeconds} s after the decision deadline`,
      );
    }
    const detail = {
      termsHash: i.termsHash,
      hashlock: i.hashlock,
      decisionDeadline: String(i.decisionDeadline),
      expiry: String(i.expiry),
    };
    ctx.step(trade.tradeId, { event: ESCROW_EVENTS.instructed, detail });
  }

  #decision(ctx: SettlementContext, trade: Trade, termsHash: string, body: Readonly<Record<string, string>>): void {
    const p = progressOf(trade);
    if (p.decision) return;
    const d = parseDecision(body);
    if (d.termsHash !== termsHash) throw new ProtocolError('the decision is for other terms');
    // The manager sends no secret; one carried all the same must open the instructed hashlock.
    if (d.secret !== undefined && !(p.instructions && opens(d.secret, p.instructions.hashlock))) {
      throw new ProtocolError('the commit carries a secret that does not open the instructed hashlock');
    }
    // On the ledgers' clock (the grace period before the bank releases itself counts from it).
    const detail = decisionDetail(d, this.#now());
    ctx.step(trade.tradeId, { event: ESCROW_EVENTS.decision, detail });
  }

  /** Notes a refused message once per reason (a forged or mistaken message changes nothing else). */
  #refuse(ctx: SettlementContext, trade: Trade, event: string, reason: string): void {
    if (trade.timeline.some((s) => s.event === event && s.detail?.['reason'] === reason)) return;
    ctx.step(trade.tradeId, { event, detail: { reason } });
  }

  /**
   * True while an escrow found ended on its ledger still waits for the event naming its
   * transaction: the followers read every second, a trade's pass may be quicker. At most
   * `endEventWaitMs`; after that the step is recorded without it.
   */
  #awaitingEnd(ref: string): boolean {
    if (this.#ends.has(ref)) return false;
    const first = this.#endSeen.get(ref) ?? Date.now();
    this.#endSeen.set(ref, first);
    return Date.now() - first < (this.#o.endEventWaitMs ?? 3000);
  }

  #drive(ctx: SettlementContext, tradeId: string): Promise<void> {
    return this.#loops.run(tradeId, () => this.#step(ctx, tradeId));
  }

  async #step(ctx: SettlementContext, tradeId: string): Promise<Next> {
    const trade = ctx.trade(tradeId);
    if (isTerminal(trade.status)) return 'done';
    if (this.#o.awaitAffirmation && !trade.timeline.some((s) => s.event === AFFIRMED_EVENT)) return 'wait';
    const run: BankRun = {
      ctx,
      trade,
      terms: escrowTermsOf(this.#o.termsOf(trade)),
      termsMap: this.#o.termsOf(trade),
      p: progressOf(trade),
      now: this.#now(),
      graceSeconds: this.#o.graceSeconds ?? 5,
      ledgers: { connector: (leg) => ctx.connector(leg), accountOf: this.#o.accountOf, assetOf: this.#o.assetOf },
      send: (to, message) => this.#sender.send(to, message),
      watch: (escrowId) => this.#watch.set(escrowId.toLowerCase(), tradeId),
      ends: {
        get: (escrowId) => this.#ends.get(escrowId.toLowerCase()),
        set: (escrowId, end) => this.#ends.set(escrowId.toLowerCase(), end),
        awaiting: (escrowId) => this.#awaitingEnd(escrowId.toLowerCase()),
      },
    };
    return step(run);
  }
}

/** The timeline detail of an accepted decision, `receivedAt` in Unix seconds on the ledgers' clock. */
function decisionDetail(d: DecisionMessage, receivedAt: number): Record<string, string> {
  return {
    decision: d.decision,
    ...(d.reason !== undefined && { reason: d.reason }),
    ...(d.approvals.securities !== undefined && { securitiesApproval: d.approvals.securities }),
    ...(d.approvals.cash !== undefined && { cashApproval: d.approvals.cash }),
    ...(d.escrows?.securities !== undefined && { securitiesEscrow: d.escrows.securities }),
    ...(d.escrows?.cash !== undefined && { cashEscrow: d.escrows.cash }),
    receivedAt: String(receivedAt),
  };
}
