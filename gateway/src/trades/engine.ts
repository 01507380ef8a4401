/**
 * The durable trade engine behind {@link TradeService}: trades as a state machine in SQLite,
 * idempotent submits, two-sided cancel, the audit log, and pluggable settlement modes. Every
 * status change writes the trade, one timeline step and one audit entry in one transaction.
 */
import { canonicalHash } from '../core/canonical';
import type { GatewayStore, StoredTrade } from '../store';
import type { CancelSide } from '../store/trades';
import type { LedgerConnector, LedgerEvent } from '../ledger/connector';
import type { LegName } from '../core/trade';
import { performAction, resumeActions } from './journal';
import type { CrashPoint } from '../core/crash-points';
import type { SettlementContext, SettlementMessage, SettlementMode, StepRequest } from '../settlement/mode';
import type { GatewayMetrics } from '../core/metrics';
import { TRANSITIONS } from '../core/state-machine';
import { cancelDecision } from './cancel';
import {
  type Actor,
  type AuditPage,
  type AuditQuery,
  type SettlementModeName,
  type SubmitResult,
  type TimelineStep,
  type Trade,
  type TradeInstruction,
  type TradeQuery,
  type TradeStatus,
} from '../core/trade';
import { type TradeService } from './ports';
import { TradeError } from '../core/errors';

/** Reason code of an instruction that found no match before its settlement deadline. */
export const UNMATCHED_REASON = 'unmatched';

/** What a counterparty's gateway told us about a trade (delivered by gateway messaging). */
export interface CounterpartyNotice {
  readonly tradeId: string;
  /** `matched`: the counterparty holds the same terms. `cancel`: it asks to cancel its side. */
  readonly kind: 'matched' | 'cancel';
}

/** Options of {@link createTradeEngine}. */
export interface TradeEngineOptions {
  readonly store: GatewayStore;
  /** The gateway's own identity: the actor of automatic steps. */
  readonly systemActor: Actor;
  readonly modes?: readonly SettlementMode[];
  /** The connector of the ledger holding each leg (securities: Fabric or the EVM stand-in; cash: EVM). */
  readonly connectors?: Partial<Readonly<Record<LegName, LedgerConnector>>>;
  /** Why this gateway could not settle an instruction (unknown ISIN, other currency), or undefined. */
  readonly cannotSettle?: (instruction: TradeInstruction) => string | undefined;
  /**
   * Why the securities ledger cannot settle `isin` (no such instrument), or undefined; asked
   * before a new instruction is stored. A ledger that cannot answer throws (LEDGER_UNAVAILABLE).
   */
  readonly unknownInstrument?: (isin: string) => Promise<string | undefined>;
  /** Directory check for `UNKNOWN_COUNTERPARTY`; default accepts every party. */
  readonly isKnownParty?: (party: string) => boolean;
  /** Receives errors of background settlement work; default ignores them. */
  readonly onError?: (err: unknown, context: Readonly<Record<string, string>>) => void;
  readonly now?: () => Date;
  /** Trades by status (read at each scrape), settlement latency, failed ledger actions. */
  readonly metrics?: Pick<GatewayMetrics, 'registry' | 'tradesByStatus' | 'settlementLatency' | 'ledgerCallErrors'>;
  /** Tests only: where the process may die (core/crash-points.ts); default none. */
  readonly crashPoint?: CrashPoint;
}

/** Summary of {@link TradeEngine.resume}. */
export interface ResumeReport {
  readonly actionsDone: number;
  readonly actionsFailed: number;
  readonly tradesResumed: number;
}

/** The engine: {@link TradeService} plus the entry points of messaging, followers and start-up. */
export interface TradeEngine extends TradeService {
  /** Applies a counterparty's `matched` / `cancel` notice; the actor must be that counterparty. */
  counterpartyNotice(actor: Actor, notice: CounterpartyNotice): Promise<Trade>;
  /** Adds a timeline step (and audit entry) without changing the status, attributed to `actor`. */
  annotate(actor: Actor, tradeId: string, request: Omit<StepRequest, 'to' | 'reason'>): Trade;
  /** Fails every trade still `received` (unmatched) at its settlement deadline; returns their ids. */
  expireUnmatched(nowSeconds: number): readonly string[];
  /** Routes a followed ledger event to every settlement mode. */
  onLedgerEvent(event: LedgerEvent): Promise<void>;
  /** Routes a settlement message to the trade's mode. */
  onMessage(message: SettlementMessage): Promise<void>;
  /** Settles unfinished journal actions, then lets each mode resume its active trades. */
  resume(): Promise<ResumeReport>;
  /** Resolves when background settlement work started by the engine has finished. */
  idle(): Promise<void>;
}

/** Strips the store-only fields. */
function publicTrade(trade: StoredTrade): Trade {
  const { cancelRequested: _ignored, ...rest } = trade;
  return rest;
}

/** Creates the engine over an open store. */
export function createTradeEngine(options: Readonly<TradeEngineOptions>): TradeEngine {
  return new Engine(options);
}

class Engine implements TradeEngine {
  readonly #o: Readonly<TradeEngineOptions>;
  readonly #now: () => Date;
  readonly #modes = new Map<SettlementModeName, SettlementMode>();
  readonly #background = new Set<Promise<void>>();
  readonly #ctx: SettlementContext;

  constructor(options: Readonly<TradeEngineOptions>) {
    this.#o = options;
    this.#now = options.now ?? ((): Date => new Date());
    for (const m of options.modes ?? []) this.#modes.set(m.mode, m);
    this.#ctx = this.#context();
    const metrics = options.metrics;
    metrics?.registry.onCollect(() => {
      const counts = options.store.trades.countByStatus();
      for (const status of Object.keys(TRANSITIONS) as TradeStatus[]) {
        metrics.tradesByStatus.set({ status }, counts[status] ?? 0);
      }
    });
  }

  async submit(actor: Actor, idempotencyKey: string, instruction: TradeInstruction): Promise<SubmitResult> {
    this.#checkServed(actor);
    const bodyHash = canonicalHash(instruction);
    const { trades } = this.#o.store;
    // A retry (a known key) is answered from the store below, without asking the ledger.
    if (trades.findKey(idempotencyKey) === undefined) {
      const unknown = await this.#o.unknownInstrument?.(instruction.isin);
      if (unknown !== undefined) {
        throw new TradeError('UNSUPPORTED_INSTRUCTION', unknown, {
          tradeId: instruction.tradeId,
          isin: instruction.isin,
        });
      }
    }
    return this.#o.store.transaction(() => {
      const seen = trades.findKey(idempotencyKey);
      if (seen) {
        if (seen.bodyHash !== bodyHash) {
          throw new TradeError('IDEMPOTENCY_CONFLICT', 'idempotency key reused with a different instruction', {
            idempotencyKey,
            tradeId: seen.tradeId,
          });
        }
        return { trade: publicTrade(trades.require(seen.tradeId)), replayed: true };
      }
      this.#checkCounterparty(instruction);
      const why = this.#o.cannotSettle?.(instruction);
      if (why !== undefined) {
        throw new TradeError('UNSUPPORTED_INSTRUCTION', why, { tradeId: instruction.tradeId, isin: instruction.isin });
      }
      const at = this.#now().toISOString();
      trades.insert(instruction, at);
      trades.recordKey(idempotencyKey, { bodyHash, tradeId: instruction.tradeId }, at);
      this.#record(actor, instruction.tradeId, 'received', at);
      return { trade: publicTrade(trades.require(instruction.tradeId)), replayed: false };
    });
  }

  async get(tradeId: string): Promise<Trade> {
    return publicTrade(this.#o.store.trades.require(tradeId));
  }

  async list(query: TradeQuery): Promise<readonly Trade[]> {
    return this.#o.store.trades.list(query).map(publicTrade);
  }

  async cancel(actor: Actor, tradeId: string): Promise<Trade> {
    this.#checkServed(actor);
    return this.#cancelSide(actor, tradeId, 'own');
  }

  async audit(query: AuditQuery): Promise<AuditPage> {
    const { audit } = this.#o.store;
    return { entries: audit.query(query), verification: audit.verify() };
  }

  async counterpartyNotice(actor: Actor, notice: CounterpartyNotice): Promise<Trade> {
    const trade = this.#o.store.trades.require(notice.tradeId);
    if (actor.party !== trade.instruction.counterparty) {
      throw new TradeError('FORBIDDEN_PARTY', `${actor.party} is not the counterparty of ${notice.tradeId}`, {
        tradeId: notice.tradeId,
        party: actor.party,
      });
    }
    if (notice.kind === 'cancel') return this.#cancelSide(actor, notice.tradeId, 'counterparty');
    const matched = this.#o.store.transaction(() =>
      this.#apply(actor, notice.tradeId, { event: 'matched', to: 'matched' }),
    );
    this.#startSettlement(matched);
    return matched;
  }

  annotate(actor: Actor, tradeId: string, request: Omit<StepRequest, 'to' | 'reason'>): Trade {
    return this.#o.store.transaction(() => this.#apply(actor, tradeId, request));
  }

  expireUnmatched(nowSeconds: number): readonly string[] {
    const expired: string[] = [];
    for (const t of this.#o.store.trades.active()) {
      if (t.status !== 'received' || t.instruction.settlementDeadline > nowSeconds) continue;
      this.#o.store.transaction(() => {
        if (this.#o.store.trades.require(t.tradeId).status !== 'received') return;
        const detail = { settlementDeadline: String(t.instruction.settlementDeadline) };
        this.#apply(this.#o.systemActor, t.tradeId, {
          event: 'unmatched_at_deadline',
          to: 'failed',
          reason: UNMATCHED_REASON,
          detail,
        });
        expired.push(t.tradeId);
      });
    }
    return expired;
  }

  async onLedgerEvent(event: LedgerEvent): Promise<void> {
    for (const mode of this.#modes.values()) await mode.onLedgerEvent(this.#ctx, event);
  }

  async onMessage(message: SettlementMessage): Promise<void> {
    const trade = this.#o.store.trades.require(message.tradeId);
    await this.#modes.get(trade.instruction.mode)?.onMessage(this.#ctx, message);
  }

  async resume(): Promise<ResumeReport> {
    const { store, connectors } = this.#o;
    const actions = await resumeActions(store.journal, connectors ?? {});
    for (const f of actions.failed) this.#o.onError?.(f.error, { actionId: String(f.actionId) });
    let tradesResumed = 0;
    for (const trade of store.trades.active()) {
      const mode = this.#modes.get(trade.instruction.mode);
      if (!mode || trade.status === 'received') continue;
      tradesResumed += 1;
      await mode.resume(this.#ctx, publicTrade(trade), store.journal.forTrade(trade.tradeId));
    }
    return { actionsDone: actions.done.length, actionsFailed: actions.failed.length, tradesResumed };
  }

  async idle(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  /** An operator of another party than the store's gets nothing from this gateway. */
  #checkServed(actor: Actor): void {
    if (actor.party !== this.#o.store.party) {
      throw new TradeError('FORBIDDEN_PARTY', `this gateway acts for ${this.#o.store.party}, not ${actor.party}`, {
        party: actor.party,
      });
    }
  }

  #checkCounterparty(instruction: TradeInstruction): void {
    const known = this.#o.isKnownParty ?? ((): boolean => true);
    if (instruction.counterparty === this.#o.store.party || !known(instruction.counterparty)) {
      throw new TradeError('UNKNOWN_COUNTERPARTY', `unknown counterparty ${instruction.counterparty}`, {
        tradeId: instruction.tradeId,
        counterparty: instruction.counterparty,
      });
    }
  }

  /** Applies a side's cancel request by the one rule of cancel.ts, in one transaction. */
  #cancelSide(actor: Actor, tradeId: string, side: CancelSide): Trade {
    return this.#o.store.transaction(() => {
      const trade = this.#o.store.trades.require(tradeId);
      const locked = this.#o.store.journal.forTrade(tradeId).length > 0;
      const decision = cancelDecision(trade, side, locked);
      if (decision.kind === 'repeated') return publicTrade(trade);
      if (decision.kind === 'refused') {
        throw new TradeError('INVALID_TRANSITION', `trade ${tradeId} cannot be cancelled in ${trade.status}`, {
          tradeId,
          status: trade.status,
          side,
        });
      }
      this.#o.store.trades.flagCancel(tradeId, side, this.#now().toISOString());
      return this.#apply(actor, tradeId, decision.request);
    });
  }

  #apply(actor: Actor, tradeId: string, request: StepRequest): Trade {
    const { trades } = this.#o.store;
    const now = this.#now();
    const at = now.toISOString();
    if (request.to !== undefined) {
      trades.setStatus(tradeId, request.to, at, request.reason);
      if (request.to === 'settled' || request.to === 'failed') this.#observeLatency(trades.require(tradeId), now);
    }
    const { to: _to, reason: _reason, ...step } = request;
    this.#record(actor, tradeId, request.event, at, step);
    return publicTrade(trades.require(tradeId));
  }

  #record(actor: Actor, tradeId: string, event: string, at: string, extra: Partial<TimelineStep> = {}): void {
    const { trades, audit } = this.#o.store;
    const status = trades.require(tradeId).status;
    trades.addStep(tradeId, { ...extra, at, actor: actor.subject, event, status });
    audit.append({ actor: actor.fingerprint, party: actor.party, event: `trade.${event}`, tradeId, at });
  }

  /** Seconds from instruction to its final status, by mode. */
  #observeLatency(trade: StoredTrade, end: Date): void {
    const seconds = (end.getTime() - Date.parse(trade.createdAt)) / 1000;
    this.#o.metrics?.settlementLatency.observe({ mode: trade.instruction.mode }, Math.max(0, seconds));
  }

  #startSettlement(trade: Trade): void {
    const mode = this.#modes.get(trade.instruction.mode);
    if (!mode) return;
    const work = mode
      .start(this.#ctx, trade)
      .catch((err: unknown) => this.#o.onError?.(err, { tradeId: trade.tradeId, mode: mode.mode }))
      .finally(() => this.#background.delete(work));
    this.#background.add(work);
  }

  #context(): SettlementContext {
    const { store } = this.#o;
    const connector = (leg: LegName): LedgerConnector => {
      const c = this.#o.connectors?.[leg];
      if (!c) throw new TradeError('LEDGER_UNAVAILABLE', `no ledger holds the ${leg} leg here`, { leg });
      return c;
    };
    return {
      trade: (tradeId) => publicTrade(store.trades.require(tradeId)),
      step: (tradeId, request) => store.transaction(() => this.#apply(this.#o.systemActor, tradeId, request)),
      perform: (tradeId, leg, spec) => {
        const c = connector(leg);
        return performAction(store.journal, c, { tradeId, leg }, spec, this.#o.crashPoint).catch((err: unknown) => {
          this.#o.metrics?.ledgerCallErrors.inc({ ledger: c.ledger, operation: spec.kind });
          throw err;
        });
      },
      connector,
      actions: (tradeId) => store.journal.forTrade(tradeId),
    };
  }
}
