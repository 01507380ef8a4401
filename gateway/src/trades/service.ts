/**
 * The trade use case, the one door behind `POST /v1/trades` whatever the configuration: the
 * {@link TradeService} the HTTP layer calls and the handler of the counterparty's messages, over
 * the engine (engine.ts: records, state machine, settlement modes). It reaches the counterparty
 * through a {@link CounterpartyChannel} (gateway messaging; without it nothing is sent and trades
 * stay unmatched).
 *
 * - Submit: the instruction is recorded (`received`) and its matching terms are queued as a
 *   `proposal` to the counterparty's gateway (signed, durable, retried until delivered).
 * - Matching: when this gateway holds both its operator's instruction and the counterparty's
 *   proposal, it compares them (matching.ts). Equal: the trade becomes `matched` (settlement
 *   starts) and an `affirmation` carrying the hash of the matched terms goes back. Different:
 *   a `match_failed` step names the fields, and the instruction stays `received` (a corrected
 *   proposal can still match) until its deadline, when it fails `unmatched`.
 * - Cancel: before matching either side cancels alone (its proposal is withdrawn on the other
 *   side); once matched, both operators must cancel (engine.ts) and each side's request travels
 *   as a `cancel` message. A cancel that arrives after settlement started is refused and noted.
 * - Any other message of the trade's counterparty (HTLC: `lock_notice`, `preimage`), or of the
 *   escrow manager an orchestrated trade names (`instructions`, `decision`), goes to the trade's
 *   settlement mode (engine.onMessage).
 */
import { CANCELLABLE } from '../core/state-machine';
import { canonicalHash } from '../core/canonical';
import { UNMATCHED_REASON, type TradeEngine } from './engine';
import { matchingTerms, mismatches, type MatchingTerms } from './matching';
import { AFFIRMED_EVENT, CANCEL_REQUESTED_OWN, type Actor, type SubmitResult, type Trade } from '../core/trade';
import { DvpError, TradeError } from '../core/errors';
import type { CounterpartyTermsStore } from '../store/terms';
import {
  NO_COUNTERPARTY_CHANNEL,
  type CounterpartyChannel,
  type CounterpartyMessage,
  type TradeMessageType,
  type TradeService,
} from './ports';

/** Messages of matching and cancel, which only the counterparty sends. */
const MATCHING_TYPES: readonly string[] = ['proposal', 'affirmation', 'cancel'];

/** Options of {@link createTrades}. */
export interface TradesOptions {
  readonly engine: TradeEngine;
  /** The counterparty's proposed terms (the gateway store's `terms`). */
  readonly terms: CounterpartyTermsStore;
  /** Gateway messaging; default none (nothing is sent, trades stay unmatched). */
  readonly channel?: CounterpartyChannel;
  /** Settlement terms both sides must share, compared like the matching fields (e.g. the HTLC leader). */
  readonly extraTerms?: (instruction: Trade['instruction']) => Readonly<Record<string, string>>;
  /**
   * Most proposals one party may have waiting for an instruction of ours; more are refused (429),
   * so an authenticated but misbehaving gateway cannot fill our database. Default 10 000.
   */
  readonly maxWaitingProposals?: number;
  /** How often unmatched instructions are checked against their deadline; default 5000 ms. */
  readonly sweepIntervalMs?: number;
  readonly onError?: (err: unknown, context: Readonly<Record<string, string>>) => void;
  /** Unix seconds; default the system clock. */
  readonly now?: () => number;
}

/** The trade service plus the handler of the counterparty's messages and the lifecycle. */
export interface Trades extends TradeService {
  /** Acts on a verified message of a counterparty's gateway (the inbox's `handle`). */
  handle(message: CounterpartyMessage): Promise<void>;
  /** Queues proposals missing after a crash, tries pending matches, starts the timers. */
  start(): Promise<void>;
  /** Resolves when no matching or cancel work is running. */
  idle(): Promise<void>;
  /** Stops the timers and waits for running work (the channel is closed by its owner). */
  close(): Promise<void>;
}

export const MATCH_EVENTS = {
  failed: 'match_failed',
  affirmed: AFFIRMED_EVENT,
  affirmationMismatch: 'counterparty_affirmation_mismatch',
  cancelRefused: 'counterparty_cancel_refused',
} as const;

/** Creates the trade use case over an engine. */
export function createTrades(options: Readonly<TradesOptions>): Trades {
  return new TradeDesk(options);
}

class TradeDesk implements Trades {
  readonly #o: Readonly<TradesOptions>;
  readonly #channel: CounterpartyChannel;
  readonly #serial = new Map<string, Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(options: Readonly<TradesOptions>) {
    this.#o = options;
    this.#channel = options.channel ?? NO_COUNTERPARTY_CHANNEL;
  }

  async submit(actor: Actor, idempotencyKey: string, instruction: Trade['instruction']): Promise<SubmitResult> {
    const result = await this.#o.engine.submit(actor, idempotencyKey, instruction);
    if (result.trade.status === 'received') await this.#propose(result.trade);
    return result;
  }

  get(tradeId: string): Promise<Trade> {
    return this.#o.engine.get(tradeId);
  }

  list(...args: Parameters<TradeService['list']>): ReturnType<TradeService['list']> {
    return this.#o.engine.list(...args);
  }

  audit(...args: Parameters<TradeService['audit']>): ReturnType<TradeService['audit']> {
    return this.#o.engine.audit(...args);
  }

  /** Serialized with matching, so an operator's cancel never lands between a match check and its result. */
  cancel(actor: Actor, tradeId: string): Promise<Trade> {
    return this.#serialized(tradeId, async () => {
      const trade = await this.#o.engine.cancel(actor, tradeId);
      this.#send(trade.instruction.counterparty, tradeId, 'cancel', {});
      return trade;
    });
  }

  async handle(m: CounterpartyMessage): Promise<void> {
    const { envelope: e } = m;
    if (e.type === 'proposal') return this.#proposal(m);
    if (e.type === 'cancel') this.#o.terms.withdraw(e.tradeId, e.from);
    // Anything else concerns our trade only if it comes from that trade's counterparty; other
    // senders learn nothing (accepted, no effect), not even whether the trade exists.
    const trade = await this.#find(e.tradeId);
    if (!trade) return;
    return this.#aboutTrade(m, trade);
  }

  /**
   * A message about one of our trades: the counterparty's affirmation or cancel, else a settlement
   * message from the counterparty or the trade's escrow manager; anything else has no effect.
   */
  #aboutTrade(m: CounterpartyMessage, trade: Trade): Promise<void> | undefined {
    const { envelope: e, signer } = m;
    const fromCounterparty = trade.instruction.counterparty === signer.party;
    if (fromCounterparty && e.type === 'affirmation') return this.#affirmed(m);
    if (fromCounterparty && e.type === 'cancel') return this.#counterpartyCancel(m);
    // Settlement messages also come from the escrow manager the trade names; its mode checks the sender.
    const fromManager = trade.instruction.escrow?.manager === signer.party;
    if (MATCHING_TYPES.includes(e.type) || !(fromCounterparty || fromManager)) return;
    return this.#toSettlement(m);
  }

  /** Keeps the counterparty's proposed terms (at most `maxWaitingProposals` unmatched) and tries to match. */
  #proposal(m: CounterpartyMessage): Promise<void> {
    const { envelope: e, signer } = m;
    const known = this.#o.terms.get(e.tradeId, e.from) !== undefined;
    const waiting = known ? 0 : this.#o.terms.unmatched(e.from);
    if (waiting >= (this.#o.maxWaitingProposals ?? 10_000)) {
      throw new TradeError('TOO_MANY_PROPOSALS', `${e.from} has ${waiting} proposals waiting for an instruction here`);
    }
    const at = new Date().toISOString();
    this.#o.terms.put({ tradeId: e.tradeId, from: e.from, terms: e.body, actor: signer }, at);
    return this.#tryMatch(e.tradeId);
  }

  /** A settlement message (HTLC: `lock_notice`, `preimage`) goes to the trade's mode. */
  #toSettlement(m: CounterpartyMessage): Promise<void> {
    const { envelope: e, signer } = m;
    return this.#o.engine
      .onMessage({ tradeId: e.tradeId, from: signer, type: e.type, body: e.body })
      .catch((err: unknown) => {
        // E.g. the directory has no ledger address for a party yet: the sender retries later.
        if (err instanceof DvpError) throw err;
        throw new TradeError('MESSAGE_NOT_PROCESSABLE', `cannot act on the ${e.type} yet: ${(err as Error).message}`);
      });
  }

  /**
   * Messages are queued just after the state change they report; a crash in between is repaired
   * here: proposals of unmatched trades, affirmations of matched ones, cancels of cancelled and
   * unmatched-expired ones (queuing the same content again is a no-op).
   */
  async start(): Promise<void> {
    for (const trade of await this.#o.engine.list({})) {
      if (trade.status === 'received') await this.#propose(trade);
      else if (trade.status === 'cancelled') this.#send(trade.instruction.counterparty, trade.tradeId, 'cancel', {});
      else if (trade.reason === UNMATCHED_REASON) this.#sendUnmatched(trade);
      else if (trade.timeline.some((s) => s.event === 'matched')) this.#affirm(trade);
      if (trade.status !== 'cancelled' && trade.timeline.some((s) => s.event === CANCEL_REQUESTED_OWN)) {
        this.#send(trade.instruction.counterparty, trade.tradeId, 'cancel', {});
      }
    }
    await this.#sweep();
    this.#timer = setInterval(() => {
      this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = undefined));
    }, this.#o.sweepIntervalMs ?? 5000);
    this.#timer.unref();
  }

  async idle(): Promise<void> {
    while (this.#serial.size > 0) await Promise.allSettled([...this.#serial.values()]);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
    await this.idle();
  }

  #now(): number {
    return this.#o.now?.() ?? Math.floor(Date.now() / 1000);
  }

  async #sweep(): Promise<void> {
    try {
      for (const tradeId of this.#o.engine.expireUnmatched(this.#now())) {
        this.#sendUnmatched(await this.#o.engine.get(tradeId));
      }
    } catch (err) {
      this.#o.onError?.(err, { task: 'unmatched sweep' });
    }
  }

  /** Queues a message and delivers it in the background (the channel retries on failure). */
  #send(to: string, tradeId: string, type: TradeMessageType, body: Record<string, string>): void {
    this.#channel.queue(to, tradeId, type, body);
    void this.#channel.flush(to, tradeId).catch((err: unknown) => this.#o.onError?.(err, { tradeId, type }));
  }

  #sendUnmatched(trade: Trade): void {
    this.#send(trade.instruction.counterparty, trade.tradeId, 'cancel', { reason: UNMATCHED_REASON });
  }

  #terms(trade: Trade): MatchingTerms {
    return matchingTerms(trade.owner, trade.instruction, this.#o.extraTerms?.(trade.instruction));
  }

  #affirm(trade: Trade): void {
    this.#send(trade.instruction.counterparty, trade.tradeId, 'affirmation', {
      termsHash: canonicalHash(this.#terms(trade)),
    });
  }

  async #propose(trade: Trade): Promise<void> {
    const terms = this.#terms(trade);
    this.#send(trade.instruction.counterparty, trade.tradeId, 'proposal', { ...terms });
    await this.#tryMatch(trade.tradeId);
  }

  /** Runs `fn` after every earlier call for the same trade (matching and cancel never interleave). */
  #serialized<T>(tradeId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#serial.get(tradeId) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(fn);
    this.#serial.set(tradeId, run);
    void run
      .finally(() => {
        if (this.#serial.get(tradeId) === run) this.#serial.delete(tradeId);
      })
      .catch(() => undefined);
    return run;
  }

  async #find(tradeId: string): Promise<Trade | undefined> {
    return this.#o.engine.get(tradeId).catch((err: unknown) => {
      if (err instanceof TradeError && err.code === 'TRADE_NOT_FOUND') return undefined;
      throw err;
    });
  }

  #tryMatch(tradeId: string): Promise<void> {
    return this.#serialized(tradeId, async () => {
      const trade = await this.#find(tradeId);
      if (!trade || trade.status !== 'received') return;
      const theirs = this.#o.terms.get(tradeId, trade.instruction.counterparty);
      if (!theirs || theirs.state !== 'active') return;
      const ours = this.#terms(trade);
      const diff = mismatches(ours, theirs.terms);
      const { engine } = this.#o;
      if (diff.length > 0) {
        const detail = Object.fromEntries(diff.map((d) => [d.field, `ours=${d.ours} theirs=${d.theirs}`]));
        const last = trade.timeline[trade.timeline.length - 1];
        if (last?.event !== MATCH_EVENTS.failed || canonicalHash(last.detail) !== canonicalHash(detail)) {
          engine.annotate(theirs.actor, tradeId, { event: MATCH_EVENTS.failed, detail });
        }
        return;
      }
      await engine.counterpartyNotice(theirs.actor, { tradeId, kind: 'matched' });
      this.#affirm(trade);
    });
  }

  #affirmed(m: CounterpartyMessage): Promise<void> {
    const { tradeId } = m.envelope;
    return this.#serialized(tradeId, async () => {
      const trade = await this.#find(tradeId);
      if (!trade || trade.timeline.some((s) => s.event === MATCH_EVENTS.affirmed)) return;
      const theirs = m.envelope.body['termsHash'] ?? '';
      const ours = canonicalHash(this.#terms(trade));
      if (theirs !== ours) {
        // Not the terms we matched: no affirmation (an HTLC leader then never locks); noted once.
        if (trade.timeline.some((s) => s.event === MATCH_EVENTS.affirmationMismatch)) return;
        const detail = { ours, theirs };
        this.#o.engine.annotate(m.signer, tradeId, { event: MATCH_EVENTS.affirmationMismatch, detail });
        return;
      }
      this.#o.engine.annotate(m.signer, tradeId, {
        event: MATCH_EVENTS.affirmed,
        detail: { termsHash: ours },
      });
    });
  }

  #counterpartyCancel(m: CounterpartyMessage): Promise<void> {
    const { tradeId } = m.envelope;
    return this.#serialized(tradeId, async () => {
      const trade = await this.#find(tradeId);
      if (!trade || trade.status === 'received' || trade.status === 'cancelled') return;
      if (CANCELLABLE.includes(trade.status)) {
        await this.#o.engine.counterpartyNotice(m.signer, { tradeId, kind: 'cancel' }).catch((err: unknown) => {
          if (!(err instanceof TradeError && err.code === 'INVALID_TRANSITION')) throw err;
          this.#refused(m, trade);
        });
        return;
      }
      this.#refused(m, trade);
    });
  }

  /** Settlement already started (or ended): the counterparty's cancel cannot apply; noted once. */
  #refused(m: CounterpartyMessage, trade: Trade): void {
    if (trade.timeline.some((s) => s.event === MATCH_EVENTS.cancelRefused)) return;
    const detail = { status: trade.status };
    this.#o.engine.annotate(m.signer, trade.tradeId, { event: MATCH_EVENTS.cancelRefused, detail });
  }
}
