/**
 * The escrow manager's steps for one trade (manager.ts runs them in a loop): read both deposits
 * on their ledgers and check them, ask the notary, decide once, carry the decision out. Each step
 * reads where the trade stands from the manager's records, the journal and the ledgers, so it can
 * run again after a crash without acting twice.
 */
import type { ManagedTrade } from '../../core/escrow';
import type { JournalAction } from '../../core/journal';
import type { LegName } from '../../core/trade';
import type { EscrowView } from '../../ledger/connector';
import { LedgerError } from '../../ledger/errors';
import type { ActionOutcome, ActionSpec } from '../actions';
import type { Next } from '../loops';
import type { OutgoingMessage } from '../messenger';
import { recordBody, type RecordFields } from '../observer/record';
import {
  decisionBody,
  depositProblems,
  escrowTermsOf,
  expectedDeposit,
  legParties,
  LEGS,
  releaseAllowed,
  releaseApproval,
  termKey,
  type EscrowLedgers,
  type EscrowTerms,
  type Instructions,
} from './protocol';

/** The manager's records (store/escrow-manager.ts `ManagerRecords`). */
export interface ManagerRecordsPort {
  register(
    tradeId: string,
    r: { party: string; terms: Readonly<Record<string, string>>; termsHash: string },
  ): readonly {
    readonly party: string;
    readonly termsHash: string;
    readonly terms: Readonly<Record<string, string>>;
  }[];
  create(
    trade: Omit<ManagedTrade, 'state' | 'decision' | 'reason' | 'createdAt' | 'updatedAt'>,
    secret: string,
  ): ManagedTrade;
  get(tradeId: string): ManagedTrade | undefined;
  secret(tradeId: string): string | undefined;
  list(query?: { readonly state?: ManagedTrade['state']; readonly active?: boolean }): readonly ManagedTrade[];
  update(
    tradeId: string,
    change: { readonly state?: ManagedTrade['state']; readonly evidence?: Readonly<Record<string, string>> },
  ): ManagedTrade;
  decide(
    tradeId: string,
    decision: 'commit' | 'abort',
    reason: string,
    evidence?: Readonly<Record<string, string>>,
  ): ManagedTrade;
}

/** The manager's journaled ledger actions (the wiring builds it from the store's journal). */
export interface ManagerActions {
  perform(tradeId: string, leg: LegName, spec: ActionSpec): Promise<ActionOutcome>;
  actions(tradeId: string): readonly JournalAction[];
}

/** What the steps work with. */
export interface StepDeps {
  readonly party: string;
  readonly records: ManagerRecordsPort;
  readonly actions: ManagerActions;
  readonly ledgers: EscrowLedgers;
  readonly now: () => number;
  /** Queues a message in the background (never waits for delivery). */
  readonly send: (to: string, message: OutgoingMessage) => void;
}

/** The instructions a managed trade was given. */
export function instructionsOf(t: ManagedTrade): Instructions {
  return { termsHash: t.termsHash, hashlock: t.hashlock, decisionDeadline: t.decisionDeadline, expiry: t.expiry };
}

/** The escrow of `leg`: its derived id and what the ledger holds there (undefined: no deposit yet). */
async function escrowOf(
  d: StepDeps,
  t: ManagedTrade,
  terms: EscrowTerms,
  leg: LegName,
): Promise<{ readonly escrowId: string; readonly view: EscrowView | undefined }> {
  const connector = d.ledgers.connector(leg);
  const depositor = d.ledgers.accountOf(legParties(terms, leg).depositor, connector.ledger);
  const escrowId = connector.escrowIdOf(t.tradeId, depositor);
  return { escrowId, view: await connector.readEscrow(escrowId) };
}

/**
 * A record for the trade's observer, if it has one. `at` is when the step happened as the records
 * say, so a record sent again after a restart is the same message (delivered once).
 */
export function record(d: StepDeps, t: ManagedTrade, fields: Omit<RecordFields, 'termsHash'>): void {
  if (!t.observer) return;
  const body = recordBody({ ...fields, termsHash: t.termsHash });
  d.send(t.observer, { tradeId: t.tradeId, type: 'record', body });
}

/** Records the decision (once) and tells both banks and the observer. */
export function decide(d: StepDeps, t: ManagedTrade, decision: 'commit' | 'abort', reason: string): ManagedTrade {
  const decided = d.records.decide(t.tradeId, decision, reason);
  announce(d, decided);
  return decided;
}

/** The evidence recorded per leg under `securities<suffix>` and `cash<suffix>`, where present. */
function legEvidence(t: ManagedTrade, suffix: 'Approval' | 'Escrow'): { securities?: string; cash?: string } {
  const securities = t.evidence[`securities${suffix}`];
  const cash = t.evidence[`cash${suffix}`];
  return { ...(securities !== undefined && { securities }), ...(cash !== undefined && { cash }) };
}

/** Sends the recorded decision (again: delivery of the same content is idempotent). */
export function announce(d: StepDeps, t: ManagedTrade): void {
  if (t.decision === undefined) return;
  const approvals = legEvidence(t, 'Approval');
  const escrows = legEvidence(t, 'Escrow');
  // No secret: the banks take it from the first release on a ledger, so none learns it earlier.
  const body = decisionBody({
    termsHash: t.termsHash,
    decision: t.decision,
    ...(t.reason !== undefined && { reason: t.reason }),
    approvals,
    escrows,
  });
  for (const bank of [t.seller, t.buyer]) d.send(bank, { tradeId: t.tradeId, type: 'decision', body });
  record(d, t, { step: 'decided', decision: t.decision, reason: t.reason, at: t.decidedAt ?? t.updatedAt });
}

/**
 * Before the decision: both deposits read and checked on their ledgers, the notary asked when the
 * terms name one, and the decision taken (commit only before the deadline).
 */
export async function beforeDecision(d: StepDeps, t: ManagedTrade): Promise<Next> {
  const terms = escrowTermsOf(t.terms);
  const deposits = await Promise.all(LEGS.map((leg) => escrowOf(d, t, terms, leg)));
  const missing: string[] = [];
  for (const [i, leg] of LEGS.entries()) {
    const { escrowId, view } = deposits[i]!;
    if (!view) {
      missing.push(leg);
      continue;
    }
    const problems = depositProblems(view, expectedDeposit(t.tradeId, leg, terms, instructionsOf(t), d.ledgers));
    if (problems.length > 0) {
      const reason = `deposit_wrong: ${leg} escrow ${escrowId}: ${problems.join(', ')}`;
      const at = new Date(d.now() * 1000).toISOString();
      record(d, t, { step: 'deposit_refused', leg, ledger: d.ledgers.connector(leg).ledger, escrowId, reason, at });
      decide(d, t, 'abort', reason);
      return 'progress';
    }
    if (t.evidence[`${leg}Escrow`] === undefined) {
      const ledger = d.ledgers.connector(leg).ledger;
      t = d.records.update(t.tradeId, { evidence: { [`${leg}Escrow`]: escrowId } });
      const { depositor, beneficiary, amount } = view;
      const at = t.updatedAt;
      record(d, t, {
        step: 'deposit_verified',
        leg,
        ledger,
        escrowId,
        amount,
        depositor,
        beneficiary,
        state: 'held',
        at,
      });
    }
  }
  if (d.now() >= t.decisionDeadline) {
    const why = missing.length > 0 ? `no ${missing.join(' or ')} deposit` : 'the notary did not answer';
    decide(d, t, 'abort', `deadline: ${why} before ${t.decisionDeadline}`);
    return 'progress';
  }
  if (missing.length > 0) return 'wait';
  return bothDeposited(d, t, terms);
}

/** Both deposits are right: ask the notary (once) or decide commit. */
function bothDeposited(d: StepDeps, t: ManagedTrade, terms: EscrowTerms): Next {
  if (!terms.notary) {
    decide(d, t, 'commit', 'both deposits verified on the ledgers');
    return 'progress';
  }
  const verdict = t.evidence['notaryVerdict'];
  if (verdict === 'approve') {
    decide(d, t, 'commit', 'both deposits verified on the ledgers; the notary approved');
    return 'progress';
  }
  if (verdict === 'refuse') {
    decide(d, t, 'abort', `notary_refused: ${t.evidence['notaryReason'] ?? 'no reason given'}`);
    return 'progress';
  }
  const request: Record<string, string> = {
    termsHash: t.termsHash,
    securitiesEscrow: t.evidence['securitiesEscrow'] ?? '',
    cashEscrow: t.evidence['cashEscrow'] ?? '',
  };
  for (const [k, v] of Object.entries(t.terms)) request[termKey(k)] = v;
  d.send(terms.notary, { tradeId: t.tradeId, type: 'approval_request', body: request });
  if (t.state !== 'approving') {
    const asked = d.records.update(t.tradeId, { state: 'approving' });
    record(d, asked, { step: 'notary_asked', at: asked.updatedAt });
  }
  return 'wait';
}

/** Final ledger answers that mean someone else already did it (a bank released with the secret). */
function alreadySettled(err: unknown): boolean {
  return err instanceof LedgerError && (err.code === 'ALREADY_SETTLED' || err.code === 'MISMATCH');
}

/** After the decision: release both legs with the secret (commit) or return both (abort). */
export async function carryOut(d: StepDeps, t: ManagedTrade): Promise<Next> {
  const terms = escrowTermsOf(t.terms);
  const deposits = await Promise.all(LEGS.map((leg) => escrowOf(d, t, terms, leg)));
  const target = t.decision === 'commit' ? 'released' : 'returned';
  let open = 0;
  const views = deposits.map((x) => x.view);
  for (const [i, leg] of LEGS.entries()) {
    const { escrowId } = deposits[i]!;
    if (await carryOutLeg(d, t, leg, escrowId, views)) open += 1;
  }
  if (open > 0) return 'progress';
  const settledNow = deposits.every((x) => x.view?.state === target);
  // An abort ends once both deposits are back, or no deposit can come any more; a commit too late
  // to release anything ends at the expiry, when the depositors take their deposits back.
  if (!settledNow && d.now() < t.expiry) return 'wait';
  if (t.decision === 'commit' && !settledNow) {
    d.records.update(t.tradeId, {
      state: 'aborted',
      evidence: { lateCommit: 'too late to release: returned at expiry' },
    });
    return 'done';
  }
  d.records.update(t.tradeId, { state: t.decision === 'commit' ? 'settled' : 'aborted' });
  return 'done';
}

/**
 * One leg after the decision: a held deposit is released or returned (true: still open), unless
 * a commit comes too late for it; a deposit no longer held is reported to the observer.
 */
async function carryOutLeg(
  d: StepDeps,
  t: ManagedTrade,
  leg: LegName,
  escrowId: string,
  views: readonly (EscrowView | undefined)[],
): Promise<boolean> {
  const view = views[LEGS.indexOf(leg)];
  if (view?.state !== 'held') {
    if (view) reportDone(d, t, leg, escrowId, view);
    return false;
  }
  // Too late (for the first release: too late to reveal the secret): the depositor's now, at expiry.
  // Sent: a release transaction was made (an intent never sent has shown nothing).
  const sent = d.actions.actions(t.tradeId).some((a) => a.kind === 'release' && a.txId !== undefined);
  if (t.decision === 'commit' && !releaseAllowed(d.now(), view, views, instructionsOf(t), sent)) return false;
  // A deposit refused for naming another controller is not the manager's to return: its depositor
  // takes it back at its expiry (the abort ends then).
  if (t.decision === 'abort' && !controls(d, leg, view)) return false;
  await act(d, t, leg, escrowId, view).catch((err: unknown) => {
    if (!alreadySettled(err)) throw err;
  });
  return true;
}

/** Whether this manager is the escrow's controller on its ledger. */
function controls(d: StepDeps, leg: LegName, view: EscrowView): boolean {
  const mine = d.ledgers.accountOf(d.party, d.ledgers.connector(leg).ledger);
  return mine.toLowerCase() === view.controller.toLowerCase();
}

/** Releases (commit, with the secret and the notary's approval) or returns (abort) one deposit, journaled. */
async function act(d: StepDeps, t: ManagedTrade, leg: LegName, escrowId: string, view: EscrowView): Promise<void> {
  if (t.decision === 'commit') {
    const preimage = d.records.secret(t.tradeId);
    const approval = releaseApproval(t.evidence[`${leg}Approval`]);
    const amount = view.amount - view.released;
    await d.actions.perform(t.tradeId, leg, {
      kind: 'release',
      escrowId,
      amount,
      ...(preimage !== undefined && { preimage }),
      ...(approval !== undefined && { approval }),
    });
  } else {
    await d.actions.perform(t.tradeId, leg, { kind: 'return', escrowId });
  }
}

/** Tells the observer how a leg ended, with the journaled transaction when the manager sent it. */
function reportDone(d: StepDeps, t: ManagedTrade, leg: LegName, escrowId: string, view: EscrowView): void {
  if (view.state === 'held') return;
  const done = d.actions
    .actions(t.tradeId)
    .find((a) => a.leg === leg && a.state === 'done' && (a.kind === 'release' || a.kind === 'return'));
  record(d, t, {
    step: view.state,
    leg,
    ledger: d.ledgers.connector(leg).ledger,
    escrowId,
    state: view.state,
    amount: view.amount,
    beneficiary: view.beneficiary,
    depositor: view.depositor,
    txId: done?.txId ?? done?.result?.['txId'],
    block: done?.result?.['block'],
    at: done?.updatedAt ?? t.updatedAt,
  });
}
