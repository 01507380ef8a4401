/**
 * One pass of a bank's orchestrated-escrow loop (bank.ts): where the trade stands is read from
 * its timeline (registered, instructed, decision, secret seen), its journal (the deposit) and
 * the ledgers (both escrows), and the next step is taken. Every ledger action goes through the
 * engine's journal, so a pass after a crash finds what the pass before it did.
 */
import { canonicalHash } from '../../core/canonical';
import type { LegName, TimelineStep, Trade } from '../../core/trade';
import type { ActionOutcome } from '../actions';
import { recordBody, type RecordFields } from '../observer/record';
import type { EscrowView } from '../../ledger/connector';
import { LedgerError } from '../../ledger/errors';
import type { Next } from '../loops';
import type { OutgoingMessage } from '../messenger';
import type { SettlementContext } from '../mode';
import {
  expectedDeposit,
  legParties,
  LEGS,
  releaseApproval,
  type EscrowLedgers,
  type EscrowTerms,
  type Instructions,
} from './protocol';

/** Timeline events of the mode. */
export const ESCROW_EVENTS = {
  registered: 'escrow_registered',
  instructed: 'escrow_instructed',
  deposited: 'escrow_deposited',
  decision: 'escrow_decision',
  secretSeen: 'escrow_secret_seen',
  released: 'escrow_released',
  returned: 'escrow_returned',
  settled: 'escrow_settled',
  failed: 'escrow_failed',
} as const;

/** What the timeline says. */
export interface BankProgress {
  readonly registered: boolean;
  readonly instructions?: Instructions;
  readonly decision?: {
    readonly decision: 'commit' | 'abort';
    /** Unix seconds on the ledgers' clock when the decision arrived. */
    readonly receivedAt: number;
    readonly detail: Readonly<Record<string, string>>;
  };
  /** The secret, from a commit or from a release seen on a ledger. */
  readonly secret?: string;
  readonly deposited: boolean;
  /** Legs whose end (released / returned) is on the timeline. */
  readonly ended: ReadonlySet<LegName>;
}

/** The manager's instructions, from the detail of the `instructed` step. */
function instructionsOf(instructed: Readonly<Record<string, string>>): Instructions {
  return {
    termsHash: instructed['termsHash'] ?? '',
    hashlock: instructed['hashlock'] ?? '',
    decisionDeadline: Number(instructed['decisionDeadline']),
    expiry: Number(instructed['expiry']),
  };
}

/** The decision, from the detail of the `decision` step. */
function decisionOf(detail: Readonly<Record<string, string>>): NonNullable<BankProgress['decision']> {
  return {
    decision: detail['decision'] === 'commit' ? 'commit' : 'abort',
    receivedAt: Number(detail['receivedAt'] ?? 0),
    detail,
  };
}

/** Legs whose end (released / returned) is on the timeline. */
function endedLegs(trade: Trade): Set<LegName> {
  const ended = new Set<LegName>();
  for (const s of trade.timeline) {
    if ((s.event === ESCROW_EVENTS.released || s.event === ESCROW_EVENTS.returned) && s.leg) ended.add(s.leg);
  }
  return ended;
}

/** The secret, from a commit or from a release seen on a ledger. */
function secretOf(find: (event: string) => TimelineStep | undefined): string | undefined {
  const seen = find(ESCROW_EVENTS.secretSeen)?.detail?.['secret'];
  return find(ESCROW_EVENTS.decision)?.detail?.['secret'] ?? seen;
}

export function progressOf(trade: Trade): BankProgress {
  const find = (event: string) => trade.timeline.find((s) => s.event === event);
  const instructed = find(ESCROW_EVENTS.instructed)?.detail;
  const decided = find(ESCROW_EVENTS.decision)?.detail;
  const secret = secretOf(find);
  return {
    registered: find(ESCROW_EVENTS.registered) !== undefined,
    ...(instructed && { instructions: instructionsOf(instructed) }),
    ...(decided && { decision: decisionOf(decided) }),
    ...(secret !== undefined && { secret }),
    deposited: find(ESCROW_EVENTS.deposited) !== undefined,
    ended: endedLegs(trade),
  };
}

/** The transaction that released or returned an escrow. */
export interface LedgerEnd {
  readonly txId?: string;
  readonly block?: bigint;
}

/** One pass over one trade. */
export interface BankRun {
  readonly ctx: SettlementContext;
  readonly trade: Trade;
  readonly terms: EscrowTerms;
  readonly termsMap: Readonly<Record<string, string>>;
  readonly p: BankProgress;
  readonly now: number;
  readonly graceSeconds: number;
  readonly ledgers: EscrowLedgers;
  readonly send: (to: string, message: OutgoingMessage) => void;
  /** Routes ledger events about `escrowId` to this trade. */
  readonly watch: (escrowId: string) => void;
  /** The transaction that ended an escrow, when known (bank.ts). */
  readonly ends: {
    get(escrowId: string): LedgerEnd | undefined;
    set(escrowId: string, end: LedgerEnd): void;
    /** True while the end of `escrowId`, seen on its ledger, still waits for its event (a few seconds). */
    awaiting(escrowId: string): boolean;
  };
}

/** The timeline fields of the end of `escrowId` on its ledger: ledger, and tx id and block when known. */
function endStep(r: BankRun, leg: LegName, escrowId: string) {
  const end = r.ends.get(escrowId);
  return {
    leg,
    ledger: r.ledgers.connector(leg).ledger,
    ...(end?.txId !== undefined && { txId: end.txId }),
    ...(end?.block !== undefined && { block: end.block.toString() }),
    detail: { escrowId },
  };
}

/**
 * Tells the trade's observer, if it names one, of a ledger action this bank took on `leg`: its
 * transaction and the escrow as the observer can check it on the ledger.
 */
function record(
  r: BankRun,
  leg: LegName,
  out: ActionOutcome,
  fields: Pick<RecordFields, 'step' | 'state' | 'amount' | 'at'>,
): void {
  const observer = r.terms.observer;
  if (observer === undefined) return;
  const ledger = r.ledgers.connector(leg).ledger;
  const parties = legParties(r.terms, leg);
  const body = recordBody({
    ...fields,
    termsHash: canonicalHash(r.termsMap),
    leg,
    ledger,
    escrowId: out.ledgerRef,
    txId: out.txId,
    block: out.block?.toString(),
    depositor: r.ledgers.accountOf(parties.depositor, ledger),
    beneficiary: r.ledgers.accountOf(parties.beneficiary, ledger),
  });
  r.send(observer, { tradeId: r.trade.tradeId, type: 'record', body });
}

/** The pass's time (the ledgers' clock) as ISO 8601. */
const isoAt = (r: BankRun): string => new Date(r.now * 1000).toISOString();

/** The leg this bank deposits. */
function ownLeg(r: BankRun): LegName {
  return r.trade.instruction.side === 'sell' ? 'securities' : 'cash';
}

function fail(r: BankRun, reason: string, detail: Readonly<Record<string, string>> = {}): Next {
  r.ctx.step(r.trade.tradeId, { event: ESCROW_EVENTS.failed, to: 'failed', reason, detail });
  return 'done';
}

/** The next step of the trade. */
export async function step(r: BankRun): Promise<Next> {
  const { p } = r;
  if (!p.registered) return register(r);
  if (!p.instructions) return awaitInstructions(r);
  // From now on the ledgers' events about either escrow (the manager's releases) wake the trade.
  for (const leg of LEGS) r.watch(escrowIdOf(r, leg));
  if (!p.deposited) return depositUnlessTooLate(r, p.instructions);
  return afterDeposit(r, p.instructions);
}

/** Registers the trade with the manager; a matched trade becomes pending. */
function register(r: BankRun): Next {
  const { ctx, trade, terms } = r;
  r.send(terms.manager, { tradeId: trade.tradeId, type: 'register', body: r.termsMap });
  const to = trade.status === 'matched' ? 'pending' : undefined;
  ctx.step(trade.tradeId, { event: ESCROW_EVENTS.registered, ...(to && { to }), detail: { manager: terms.manager } });
  return 'progress';
}

/** Registered, not yet instructed: registers again until the deadline, unless the manager aborted. */
function awaitInstructions(r: BankRun): Next {
  const { trade, p, terms } = r;
  if (p.decision?.decision === 'abort') return fail(r, 'escrow_aborted', p.decision.detail);
  if (r.now >= terms.deadline) return fail(r, 'escrow_not_instructed', { deadline: String(terms.deadline) });
  r.send(terms.manager, { tradeId: trade.tradeId, type: 'register', body: r.termsMap });
  return 'wait';
}

/** Instructed: deposits before the decision deadline, unless the manager aborted. */
async function depositUnlessTooLate(r: BankRun, i: Instructions): Promise<Next> {
  const { p } = r;
  if (p.decision?.decision === 'abort') return fail(r, 'escrow_aborted', p.decision.detail);
  if (r.now >= i.decisionDeadline) return fail(r, 'escrow_not_deposited', { deadline: String(i.decisionDeadline) });
  return deposit(r, i);
}

/**
 * Deposited: commit once the secret is known, give back on abort or at the expiry, else wait
 * (looking for the secret on the ledgers once told of a commit, or after the decision deadline:
 * the manager's first release shows it).
 */
async function afterDeposit(r: BankRun, i: Instructions): Promise<Next> {
  const { p } = r;
  if (p.secret !== undefined) return commit(r, p.secret);
  if (p.decision?.decision === 'abort' || r.now >= i.expiry) return giveBack(r, i);
  const look = r.now >= i.decisionDeadline || p.decision?.decision === 'commit';
  return look && (await lookForSecret(r)) ? 'progress' : 'wait'; // seen: on to the releases at once
}

/** Deposits this bank's leg (journaled) and tells the manager. */
async function deposit(r: BankRun, i: Instructions): Promise<Next> {
  const { ctx, trade, terms } = r;
  const leg = ownLeg(r);
  const request = expectedDeposit(trade.tradeId, leg, terms, i, r.ledgers);
  const out = await ctx.perform(trade.tradeId, leg, { kind: 'deposit', request });
  r.watch(out.ledgerRef);
  const after = ctx.step(trade.tradeId, {
    event: ESCROW_EVENTS.deposited,
    leg,
    ledger: out.ledger,
    ...(out.txId !== undefined && { txId: out.txId }),
    ...(out.block !== undefined && { block: out.block.toString() }),
    detail: { escrowId: out.ledgerRef, amount: request.amount.toString(), expiry: String(request.expiry) },
  });
  const body = { leg, escrowId: out.ledgerRef, ...(out.txId !== undefined && { txId: out.txId }) };
  r.send(terms.manager, { tradeId: trade.tradeId, type: 'deposited', body });
  const at = after.timeline[after.timeline.length - 1]?.at ?? new Date(r.now * 1000).toISOString();
  record(r, leg, out, { step: 'deposited', state: 'held', amount: request.amount, at });
  return 'progress';
}

/** The id of a leg's escrow, derived from its depositor and the trade. */
function escrowIdOf(r: BankRun, leg: LegName): string {
  const connector = r.ledgers.connector(leg);
  const depositor = r.ledgers.accountOf(legParties(r.terms, leg).depositor, connector.ledger);
  return connector.escrowIdOf(r.trade.tradeId, depositor);
}

/** Each leg's escrow id and what its ledger holds there. */
async function escrows(
  r: BankRun,
): Promise<readonly { leg: LegName; escrowId: string; view: EscrowView | undefined }[]> {
  return Promise.all(
    LEGS.map(async (leg) => {
      const escrowId = escrowIdOf(r, leg);
      return { leg, escrowId, view: await r.ledgers.connector(leg).readEscrow(escrowId) };
    }),
  );
}

/** A release on either ledger shows the secret (true: seen, and put on the timeline). */
async function lookForSecret(r: BankRun): Promise<boolean> {
  for (const { leg, escrowId, view } of await escrows(r)) {
    if (view?.state !== 'released') continue;
    const secret = await r.ledgers.connector(leg).readEscrowPreimage(escrowId);
    if (secret === undefined) continue;
    r.ctx.step(r.trade.tradeId, { event: ESCROW_EVENTS.secretSeen, leg, detail: { secret, escrowId } });
    return true;
  }
  return false;
}

/**
 * Commit: both legs go to their beneficiaries. The manager releases them; a leg still held after
 * the grace period (or at once when the secret was seen on a ledger, the manager being gone) is
 * released by this bank with the secret, before its expiry.
 */
async function commit(r: BankRun, secret: string): Promise<Next> {
  const { p } = r;
  const mayRelease = p.decision === undefined || r.now >= p.decision.receivedAt + r.graceSeconds;
  let held = 0;
  let pending = 0;
  for (const e of await escrows(r)) {
    const outcome = await commitLeg(r, e, secret, mayRelease);
    if (outcome === 'recorded') return 'progress';
    if (outcome === 'held') held += 1;
    if (outcome === 'pending') pending += 1;
  }
  if (held > 0) return mayRelease ? 'progress' : 'wait';
  if (pending > 0) return 'wait';
  return settleCommitted(r);
}

/**
 * One leg under a commit: `held` while still held before its expiry (released now when
 * `mayRelease`), `recorded` when its end on the ledger was just put on the timeline, `pending`
 * while that end still waits for its event (the transaction id).
 */
async function commitLeg(
  r: BankRun,
  e: { leg: LegName; escrowId: string; view: EscrowView | undefined },
  secret: string,
  mayRelease: boolean,
): Promise<'held' | 'recorded' | 'pending' | undefined> {
  const { leg, escrowId, view } = e;
  if (!view) return undefined;
  if (view.state === 'held' && r.now < view.expiry) {
    if (mayRelease) await release(r, leg, escrowId, view, secret);
    return 'held';
  }
  if (!r.p.ended.has(leg) && view.state !== 'held') {
    if (r.ends.awaiting(escrowId)) return 'pending';
    const event = view.state === 'released' ? ESCROW_EVENTS.released : ESCROW_EVENTS.returned;
    r.ctx.step(r.trade.tradeId, { event, ...endStep(r, leg, escrowId) });
    return 'recorded';
  }
  return undefined;
}

/** Nothing held any more after a commit: settled when both legs were released, else failed. */
async function settleCommitted(r: BankRun): Promise<Next> {
  const { ctx, trade } = r;
  const all = await escrows(r);
  if (all.every((e) => e.view?.state === 'released')) {
    ctx.step(trade.tradeId, { event: ESCROW_EVENTS.settled, to: 'settled', detail: { decision: 'commit' } });
    return 'done';
  }
  return fail(
    r,
    'escrow_incomplete_after_commit',
    Object.fromEntries(all.map((e) => [e.leg, e.view?.state ?? 'none'])),
  );
}

/** Releases one leg with the secret (journaled); someone else having done it first is fine. */
async function release(r: BankRun, leg: LegName, escrowId: string, view: EscrowView, preimage: string): Promise<void> {
  const approval = releaseApproval(r.p.decision?.detail[`${leg}Approval`]);
  const amount = view.amount - view.released;
  try {
    const out = await r.ctx.perform(r.trade.tradeId, leg, {
      kind: 'release',
      escrowId,
      amount,
      preimage,
      ...(approval !== undefined && { approval }),
    });
    r.ends.set(escrowId, out);
    if (!out.alreadyDone) record(r, leg, out, { step: 'released', state: 'released', amount, at: isoAt(r) });
  } catch (err) {
    if (!(err instanceof LedgerError && (err.code === 'ALREADY_SETTLED' || err.code === 'MISMATCH'))) throw err;
  }
}

/** Abort, or no decision by the expiry: this bank's deposit comes back (the manager's return, or its own at expiry). */
async function giveBack(r: BankRun, i: Instructions): Promise<Next> {
  const { ctx, trade, p } = r;
  const leg = ownLeg(r);
  const mine = (await escrows(r)).find((e) => e.leg === leg);
  const view = mine?.view;
  if (!mine || !view) return fail(r, 'escrow_deposit_missing');
  if (view.state === 'released') {
    // Released to the counterparty: a commit happened, and the secret is on this ledger.
    await lookForSecret(r);
    return 'progress';
  }
  if (view.state === 'held') return takeBack(r, i, mine.escrowId, view);
  if (r.ends.awaiting(mine.escrowId)) return 'wait';
  ctx.step(trade.tradeId, { event: ESCROW_EVENTS.returned, ...endStep(r, leg, mine.escrowId) });
  // A commit whose releases never came (the manager too late, or gone) ends at the expiry too.
  const aborted = p.decision?.decision === 'abort';
  return fail(
    r,
    aborted ? 'escrow_aborted' : 'escrow_expired',
    aborted ? p.decision!.detail : { expiry: String(i.expiry) },
  );
}

/** This bank's deposit still held: waits for the manager's return or the expiry, then takes it back itself. */
async function takeBack(r: BankRun, i: Instructions, escrowId: string, view: EscrowView): Promise<Next> {
  const { ctx, trade } = r;
  if (r.now < view.expiry) return 'wait'; // the manager returns it as controller, or the expiry comes
  if (r.now < i.expiry) return 'wait';
  // No release can happen any more: a last look for a secret, then take the deposit back.
  await lookForSecret(r);
  if (progressOf(ctx.trade(trade.tradeId)).secret !== undefined) return 'progress';
  const out = await ctx.perform(trade.tradeId, ownLeg(r), { kind: 'return', escrowId });
  r.ends.set(escrowId, out);
  const amount = view.amount - view.released;
  if (!out.alreadyDone) record(r, ownLeg(r), out, { step: 'returned', state: 'returned', amount, at: isoAt(r) });
  return 'progress';
}
