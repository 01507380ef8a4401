/**
 * The HTLC settlement mode (DESIGN.md 3.1). Each matched trade gets one loop that reads where
 * the trade stands from durable records ({@link readProgress}: journal + timeline) and the
 * ledgers, takes the next step, and sleeps until the poll interval ends or a message or ledger
 * event about the trade wakes it. Every lock, claim and refund goes through the engine's journal
 * (`ctx.perform`), so after a restart `resume` continues from the records without acting twice.
 * Loops are per trade: trades settle concurrently, nothing locks across trades.
 *
 * Leader: locks its leg with T_L, tells the follower, verifies the follower's lock on the
 * follower's ledger, claims it while more than Δ remains before its expiry (a claim landing late
 * is refused yet shows the preimage: model/htlc.pml), is settled once its own lock is claimed;
 * refunds at T_L. Follower: verifies the leader's lock on the leader's ledger (never trusting the
 * message), locks with T_F, claims the leader's lock with the revealed preimage; refunds at T_F.
 */
import type { SettlementContext, SettlementMessage, SettlementMode } from '../mode';
import type { LedgerConnector, LedgerEvent, LockRequest, LockView } from '../../ledger/connector';
import { LedgerError } from '../../ledger/errors';
import type { ActionOutcome } from '../actions';
import { AFFIRMED_EVENT } from '../../core/trade';
import { isTerminal } from '../../core/state-machine';
import type { Trade } from '../../core/trade';
import type { OutgoingMessage, SettlementMessenger } from '../messenger';
import { hasNotice, HTLC_EVENTS, readProgress, type OwnLock } from './progress';
import { isPreimageOf, type SecretStore } from './secrets';
import { TradeLoops, type Next } from '../loops';
import {
  begin,
  cancelAsked,
  claim,
  fail,
  finish,
  idleAt,
  isLockOf,
  ledgersOf,
  lockRequestOf,
  onLeg,
  recordLock,
  refundAtExpiry,
  txOf,
  type Run,
} from './steps';
import { assertTimelocks, isWellFormedNotice, normHex, planOf, verifyLock, type HtlcConfig } from './terms';

/** Options of {@link createHtlcMode}. */
export interface HtlcModeOptions extends HtlcConfig {
  readonly messenger: SettlementMessenger;
  /** The leader's durable secrets (same database as the journal). */
  readonly secrets: SecretStore;
  /** Unix seconds on the ledgers' clock; default the system clock. */
  readonly now?: () => number;
  /** How often a waiting trade re-reads its ledgers; default 1000 ms. */
  readonly pollIntervalMs?: number;
  /**
   * The leader locks only once the counterparty affirmed the same terms (DESIGN.md 3.1 step 1);
   * default false (in-process pairs match by calling the engine directly and never affirm).
   */
  readonly awaitAffirmation?: boolean;
  /** Receives errors of settlement steps (the step is retried at the next poll). */
  readonly onError?: (err: unknown, context: Readonly<Record<string, string>>) => void;
}

/** The HTLC driver plus loop control. */
export interface HtlcMode extends SettlementMode {
  readonly mode: 'htlc';
  /** Resolves when every running trade loop has ended (trades settled or failed, or closed). */
  idle(): Promise<void>;
  /** Stops every loop (an in-flight ledger call finishes first); nothing new starts. */
  close(): Promise<void>;
}

/** Creates the mode; throws `HtlcConfigError` unless T_L ≥ T_F + Δ. */
export function createHtlcMode(options: Readonly<HtlcModeOptions>): HtlcMode {
  assertTimelocks(options.timelocks);
  return new Htlc(options);
}

class Htlc implements HtlcMode {
  readonly mode = 'htlc' as const;
  readonly #o: Readonly<HtlcModeOptions>;
  readonly #now: () => number;
  readonly #loops: TradeLoops;
  /** Ledger refs and hashlocks (normalized) → trade id, for routing ledger events. */
  readonly #watch = new Map<string, string>();
  /** Preimages from claim events or relays, by trade id: only ones that hash to the trade's hashlock. */
  readonly #preimages = new Map<string, string>();
  /** Messages being delivered, by trade id and type: a slow or hung counterparty never blocks a loop. */
  readonly #sending = new Map<string, Promise<void>>();

  constructor(options: Readonly<HtlcModeOptions>) {
    this.#o = options;
    this.#now = options.now ?? ((): number => Math.floor(Date.now() / 1000));
    this.#loops = new TradeLoops({
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      onError: (err, tradeId) => options.onError?.(err, { trade: tradeId, mode: 'htlc' }),
      onEnd: (key) => this.#forget(key),
    });
  }

  start(ctx: SettlementContext, trade: Trade): Promise<void> {
    return this.#drive(ctx, trade.tradeId);
  }

  async resume(ctx: SettlementContext, trade: Trade): Promise<void> {
    void this.#drive(ctx, trade.tradeId);
  }

  async onMessage(ctx: SettlementContext, m: SettlementMessage): Promise<void> {
    const trade = ctx.trade(m.tradeId);
    if (m.from.party !== trade.instruction.counterparty || isTerminal(trade.status)) return;
    const { lockId, hashlock, preimage } = m.body;
    const { theirs } = planOf(this.#o, trade, ledgersOf(ctx));
    const wellFormed =
      lockId !== undefined && hashlock !== undefined && isWellFormedNotice(theirs.ledger, lockId, hashlock);
    if (m.type === 'lock_notice' && wellFormed && !hasNotice(trade, lockId)) {
      ctx.step(m.tradeId, {
        event: HTLC_EVENTS.notice,
        leg: theirs.name,
        ledger: theirs.ledger,
        detail: { lockId, hashlock, source: 'message' },
      });
    }
    if (m.type === 'preimage' && preimage !== undefined) this.#keepPreimage(ctx, trade, preimage);
    this.#wake(ctx, trade);
  }

  async onLedgerEvent(ctx: SettlementContext, e: LedgerEvent): Promise<void> {
    const tradeId = this.#watch.get(normHex(e.ref)) ?? this.#watch.get(normHex(e.data['hashlock'] ?? '-'));
    if (tradeId === undefined) return;
    const preimage = e.data['preimage'];
    if (e.kind === 'claimed' && preimage !== undefined) this.#keepPreimage(ctx, ctx.trade(tradeId), preimage);
    if (e.kind === 'locked') this.#noticeFromLedger(ctx, tradeId, e);
    this.#loops.wake(tradeId);
  }

  async idle(): Promise<void> {
    await this.#loops.idle();
    await Promise.allSettled([...this.#sending.values()]);
  }

  async close(): Promise<void> {
    await this.#loops.close();
    await Promise.allSettled([...this.#sending.values()]);
  }

  /**
   * A `locked` event with our hashlock, from the follower to us, on the follower's ledger: a notice
   * for the leader. Anyone can lock under the (public) hashlock, so the sender must be the follower.
   */
  #noticeFromLedger(ctx: SettlementContext, tradeId: string, e: LedgerEvent): void {
    const trade = ctx.trade(tradeId);
    const plan = planOf(this.#o, trade, ledgersOf(ctx));
    const { hashlock } = e.data;
    if (plan.role !== 'leader' || !isLockOf(plan.theirs, e) || hashlock === undefined || hasNotice(trade, e.ref))
      return;
    if (!isWellFormedNotice(e.ledger, e.ref, hashlock)) return;
    const detail = { lockId: e.ref, hashlock, source: 'ledger' };
    ctx.step(tradeId, {
      event: HTLC_EVENTS.notice,
      leg: plan.theirs.name,
      ledger: e.ledger,
      txId: e.txId,
      detail,
    });
  }

  /**
   * Caches a preimage (relayed, or from a claim event) only if it opens this trade's own lock, and
   * never over one that does: a malformed relay must not stand in for the real preimage.
   */
  #keepPreimage(ctx: SettlementContext, trade: Trade, preimage: string): void {
    const key = trade.tradeId;
    if (this.#preimages.has(key)) return;
    const plan = planOf(this.#o, trade, ledgersOf(ctx));
    const mine = readProgress(trade, ctx.actions(trade.tradeId), plan).ownLock;
    if (mine && isPreimageOf(preimage, mine.request.hashlock)) this.#preimages.set(key, preimage);
  }

  #wake(ctx: SettlementContext, trade: Trade): void {
    const woken = this.#loops.wake(trade.tradeId);
    if (!woken && trade.status !== 'received') void this.#drive(ctx, trade.tradeId);
  }

  /** The trade's loop: started once, shared by every caller. */
  #drive(ctx: SettlementContext, tradeId: string): Promise<void> {
    return this.#loops.run(tradeId, () => this.#advance(ctx, tradeId));
  }

  #forget(key: string): void {
    this.#preimages.delete(key);
    for (const [ref, k] of this.#watch) if (k === key) this.#watch.delete(ref);
  }

  async #advance(ctx: SettlementContext, tradeId: string): Promise<Next> {
    const trade = ctx.trade(tradeId);
    const idle = idleAt(trade.status);
    if (idle) return idle;
    const plan = planOf(this.#o, trade, ledgersOf(ctx));
    const p = readProgress(trade, ctx.actions(tradeId), plan);
    const run: Run = { ctx, trade, plan, p, now: this.#now(), key: tradeId };
    if (p.ownLock) this.#watchOwnLock(run, p.ownLock);
    if (p.unfinishedLock && !p.ownLock) return this.#lock(run, p.unfinishedLock);
    if (p.lockError !== undefined && !p.ownLock) return fail(run, 'lock_failed', { error: p.lockError });
    return plan.role === 'leader' ? this.#leader(run) : this.#follower(run);
  }

  /** Routes events about our lock (and the counterparty's, which shares its hashlock) to this trade. */
  #watchOwnLock(r: Run, lock: OwnLock): void {
    this.#watch.set(normHex(lock.lockId), r.key);
    this.#watch.set(normHex(lock.request.hashlock), r.key);
    if (!r.p.lockRecorded) recordLock(r, lock);
  }

  // ---- leader ----

  async #leader(r: Run): Promise<Next> {
    const mine = r.p.ownLock;
    if (!mine) return this.#leaderLock(r);
    if (!r.p.noticeSent) this.#sendNotice(r, mine);
    // From our expiry on, the follower's lock (expiry ≤ ours − Δ) can no longer be claimed: refund.
    if (!r.p.claimed && r.now < mine.request.expiry) {
      const theirs = await this.#leaderCounterpartyLock(r, mine);
      if (theirs && r.now + this.#o.timelocks.deltaSeconds < theirs.expiry) return this.#leaderClaim(r, theirs);
    }
    return this.#leaderSettle(r, mine);
  }

  /** Settled once we claimed and our own lock is claimed; otherwise refunded at its expiry. */
  async #leaderSettle(r: Run, mine: OwnLock): Promise<Next> {
    const own = await this.#ledger(r, 'mine').readLock(mine.lockId);
    if (own?.state === 'claimed' && r.p.claimed) return finish(r, HTLC_EVENTS.settled, { lockId: mine.lockId });
    return refundAtExpiry(r, mine, own, r.p.claimed ? 'follower_missed_claim' : 'timeout');
  }

  async #leaderLock(r: Run): Promise<Next> {
    // Nothing of ours is locked or being locked: past the deadline nothing may be (also after a
    // crash between `begin` and the lock's journal intent, when the trade is already pending).
    const deadline = r.trade.instruction.settlementDeadline;
    if (r.now >= deadline) return fail(r, 'timeout', { phase: 'before_lock' });
    const affirmed = r.trade.timeline.some((s) => s.event === AFFIRMED_EVENT);
    if (this.#o.awaitAffirmation && r.trade.status === 'matched' && !affirmed) return 'wait';
    if (cancelAsked(r)) return 'wait';
    const { hashlock } = this.#o.secrets.secretFor(r.trade.tradeId);
    this.#watch.set(normHex(hashlock), r.key);
    begin(r, { role: 'leader', hashlock });
    return this.#lock(r, lockRequestOf(r, hashlock, r.now + this.#o.timelocks.leaderSeconds));
  }

  /**
   * The follower's lock, verified on the follower's ledger (once), or undefined. A failed read is
   * reported and gives undefined: it must never hold up the leader's own refund.
   */
  async #leaderCounterpartyLock(r: Run, mine: OwnLock): Promise<LockView | undefined> {
    const lockId = r.p.verifiedLockId ?? r.p.notice?.lockId;
    if (lockId === undefined) return undefined;
    this.#watch.set(normHex(lockId), r.key);
    let view: LockView | undefined;
    try {
      view = await this.#ledger(r, 'theirs').readLock(lockId);
    } catch (err) {
      this.#o.onError?.(err, { trade: r.trade.tradeId, mode: 'htlc', lockId });
      return undefined;
    }
    if (!view || r.p.verifiedLockId !== undefined) return view;
    const check = verifyLock(view, {
      leg: r.plan.theirs,
      hashlock: mine.request.hashlock,
      maxExpiry: mine.request.expiry - this.#o.timelocks.deltaSeconds,
    });
    const { ctx, trade } = r;
    if (!check.ok) {
      const { field, expected, actual } = check;
      const detail = { lockId, field, expected, actual };
      ctx.step(trade.tradeId, { event: HTLC_EVENTS.rejected, ...onLeg(r.plan.theirs), detail });
      return undefined;
    }
    const detail = { lockId, expiry: String(view.expiry) };
    ctx.step(trade.tradeId, { event: HTLC_EVENTS.verified, ...onLeg(r.plan.theirs), detail });
    return view;
  }

  /** Claims the follower's lock, revealing the preimage there, then relays it (best effort). */
  async #leaderClaim(r: Run, theirs: LockView): Promise<Next> {
    const { preimage } = this.#o.secrets.secretFor(r.trade.tradeId);
    await claim(r, theirs.lockId, preimage);
    this.#send(r, { tradeId: r.trade.tradeId, type: 'preimage', body: { preimage, lockId: theirs.lockId } });
    return 'progress';
  }

  // ---- follower ----

  async #follower(r: Run): Promise<Next> {
    const mine = r.p.ownLock;
    if (!mine) return this.#followerLock(r);
    if (!r.p.noticeSent) this.#sendNotice(r, mine);
    if (r.p.claimed) return finish(r, HTLC_EVENTS.settled, { lockId: mine.lockId });
    const own = await this.#ledger(r, 'mine').readLock(mine.lockId);
    if (own?.state === 'claimed') return this.#followerClaim(r, mine);
    return refundAtExpiry(r, mine, own, 'timeout');
  }

  /** Verifies the leader's lock on the leader's ledger, then locks with T_F; refuses on any mismatch. */
  async #followerLock(r: Run): Promise<Next> {
    const notice = r.p.notice;
    // Nothing of ours is locked or being locked: the deadline ends the trade, notice or not (an
    // announced lock that never shows up must not keep it matched for ever).
    const late = r.now >= r.trade.instruction.settlementDeadline;
    if (late) return fail(r, 'timeout', notice ? { lockId: notice.lockId } : {});
    if (!notice || cancelAsked(r)) return 'wait';
    const view = await this.#ledger(r, 'theirs').readLock(notice.lockId);
    if (!view) return 'wait'; // announced before it is visible on our node: look again
    const { followerSeconds, deltaSeconds } = this.#o.timelocks;
    const expiry = r.now + followerSeconds;
    const check = verifyLock(view, { leg: r.plan.theirs, hashlock: notice.hashlock, minExpiry: expiry + deltaSeconds });
    if (!check.ok) {
      const { reason, field, expected, actual } = check;
      return fail(r, reason, { lockId: notice.lockId, field, expected, actual });
    }
    const { trade, ctx } = r;
    const detail = { lockId: notice.lockId, expiry: String(view.expiry) };
    ctx.step(trade.tradeId, { event: HTLC_EVENTS.verified, ...onLeg(r.plan.theirs), detail });
    begin(r, { role: 'follower', hashlock: notice.hashlock });
    this.#watch.set(normHex(notice.lockId), r.key);
    return this.#lock(r, lockRequestOf(r, notice.hashlock, expiry));
  }

  /** The leader claimed our lock: take the preimage from the claim and claim the leader's lock. */
  async #followerClaim(r: Run, mine: OwnLock): Promise<Next> {
    const theirId = r.p.verifiedLockId;
    if (theirId === undefined) throw new Error(`trade ${r.trade.tradeId}: locked without a verified leader lock`);
    const preimage = await this.#revealed(r, mine);
    if (preimage === undefined) return 'wait';
    const theirs = await this.#ledger(r, 'theirs').readLock(theirId);
    // Expired, or refunded: the leader's asset can no longer be claimed (the follower's liveness risk).
    if (theirs?.state === 'refunded' || (theirs?.state === 'locked' && r.now >= theirs.expiry)) {
      return fail(r, 'claim_window_missed', { lockId: theirId, expiry: String(theirs.expiry) });
    }
    await claim(r, theirId, preimage);
    return 'progress';
  }

  /** The preimage from an event or relay if it opens our lock, else from the claim on our ledger. */
  async #revealed(r: Run, mine: OwnLock): Promise<string | undefined> {
    const opens = (p: string | undefined): p is string => p !== undefined && isPreimageOf(p, mine.request.hashlock);
    const cached = this.#preimages.get(r.key);
    if (opens(cached)) return cached;
    this.#preimages.delete(r.key);
    const read = await this.#ledger(r, 'mine').readPreimage(mine.lockId);
    if (!opens(read)) return undefined;
    this.#preimages.set(r.key, read);
    return read;
  }

  // ---- shared steps ----

  #ledger(r: Run, leg: 'mine' | 'theirs'): LedgerConnector {
    return r.ctx.connector(r.plan[leg].name);
  }

  async #lock(r: Run, request: LockRequest): Promise<Next> {
    const { ctx, trade, plan } = r;
    let out: ActionOutcome;
    try {
      out = await ctx.perform(trade.tradeId, plan.mine.name, { kind: 'lock', request });
    } catch (err) {
      if (!(err instanceof LedgerError) || err.code === 'UNAVAILABLE') throw err;
      return fail(r, 'lock_failed', { code: err.code });
    }
    this.#watch.set(normHex(out.ledgerRef), r.key);
    const landed = txOf(plan.mine, out);
    const { txId, block } = landed;
    recordLock(r, { lockId: out.ledgerRef, request, ...(txId && { txId }), ...(block && { block }) });
    return 'progress';
  }

  /**
   * Tells the counterparty of our lock. Delivery runs beside the loop and blocks nothing: claims,
   * and refunds at expiry, must go on while the other gateway is down or hung. The messenger
   * keeps an undelivered message and retries it; the step is recorded once it is delivered.
   */
  #sendNotice(r: Run, mine: OwnLock): void {
    const body = { lockId: mine.lockId, hashlock: mine.request.hashlock, expiry: String(mine.request.expiry) };
    const { ctx, trade } = r;
    this.#send(r, { tradeId: trade.tradeId, type: 'lock_notice', body }, () => {
      ctx.step(trade.tradeId, { event: HTLC_EVENTS.noticeSent, detail: { lockId: mine.lockId } });
    });
  }

  /** Sends in the background, once at a time per trade and type; `delivered` runs after delivery. */
  #send(r: Run, message: OutgoingMessage, delivered?: () => void): void {
    const key = `${r.key}\u0000${message.type}`;
    if (this.#sending.has(key)) return;
    const context = { tradeId: message.tradeId, message: message.type };
    const work = this.#o.messenger
      .send(r.plan.counterparty, message)
      .then(() => delivered?.())
      .catch((err: unknown) => this.#o.onError?.(err, context))
      .finally(() => this.#sending.delete(key));
    this.#sending.set(key, work);
  }
}
