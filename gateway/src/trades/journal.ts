/**
 * Ledger actions through the journal: the intent is recorded before anything is signed, the
 * transaction ids before it is broadcast (the connector's `beforeSend`), the outcome after. After
 * a restart {@link resumeActions} settles every unfinished action without doing anything twice:
 * a prepared transaction is looked up (and rebroadcast from its signed bytes) before a new one is
 * ever made, and the connectors' own idempotency (existing lock/escrow, settled state) is the
 * second guard. Each action passes three crash points (core/crash-points.ts): journaled, confirmed,
 * recorded.
 */
import type { ActionJournal } from '../store/journal';
import type { JournalAction } from '../core/journal';
import type { LedgerConnector, TxOutcome } from '../ledger/connector';
import {
  decodeSpec,
  defined,
  encodeSpec,
  type ActionOutcome,
  type ActionSpec,
  type Params,
} from '../settlement/actions';
import type { LegName } from '../core/trade';
import { LedgerError } from '../ledger/errors';
import { actionPoint, noCrashPoint, type CrashPoint } from '../core/crash-points';

/** Connectors by leg, for resuming: each serves its leg on whichever ledger holds it. */
export type Connectors = Partial<Readonly<Record<LegName, LedgerConnector>>>;

async function execute(
  connector: LedgerConnector,
  spec: ActionSpec,
  beforeSend: Parameters<LedgerConnector['lock']>[1],
): Promise<TxOutcome & { ledgerRef: string }> {
  switch (spec.kind) {
    case 'lock': {
      const out = await connector.lock(spec.request, beforeSend);
      return { ...out, ledgerRef: out.lockId };
    }
    case 'claim':
      return { ...(await connector.claim(spec.lockId, spec.preimage, beforeSend)), ledgerRef: spec.lockId };
    case 'refund':
      return { ...(await connector.refund(spec.lockId, beforeSend)), ledgerRef: spec.lockId };
    case 'deposit': {
      const out = await connector.deposit(spec.request, beforeSend);
      return { ...out, ledgerRef: out.escrowId };
    }
    case 'release': {
      const { escrowId, amount, approval, preimage } = spec;
      const out =
        preimage === undefined
          ? await connector.release(escrowId, amount, approval, beforeSend)
          : await connector.releaseWithPreimage(escrowId, amount, preimage, approval, beforeSend);
      return { ...out, ledgerRef: escrowId };
    }
    case 'return':
      return { ...(await connector.returnEscrow(spec.escrowId, beforeSend)), ledgerRef: spec.escrowId };
  }
}

function resultOf(outcome: TxOutcome & { ledgerRef: string }): Params {
  return defined({
    ledgerRef: outcome.ledgerRef,
    txId: outcome.txId,
    block: outcome.block,
    alreadyDone: String(outcome.alreadyDone),
  });
}

/** Errors that are final (the ledger said no); anything else may succeed on a later resume. */
function isFinal(err: unknown): err is LedgerError {
  return err instanceof LedgerError && err.code !== 'UNAVAILABLE';
}

async function run(
  journal: ActionJournal,
  connector: LedgerConnector,
  action: JournalAction,
  spec: ActionSpec,
  crash: CrashPoint,
): Promise<ActionOutcome> {
  const at = (phase: Parameters<typeof actionPoint>[2]): void =>
    crash(actionPoint(action.leg, action.kind, phase), action.tradeId);
  try {
    const beforeSend = (p: Parameters<ActionJournal['recordPrepared']>[1]): void => {
      journal.recordPrepared(action.id, p);
      at('journaled');
    };
    const outcome = await execute(connector, spec, { beforeSend });
    at('confirmed');
    journal.recordDone(action.id, resultOf(outcome), outcome.ledgerRef);
    at('recorded');
    return { ...outcome, actionId: action.id };
  } catch (err) {
    if (isFinal(err)) journal.recordFailed(action.id, `${err.code}: ${err.message}`);
    throw withTrade(err, action);
  }
}

/** Adds the trade and journal ids to a ledger error's context (the original stays the cause). */
function withTrade(err: unknown, action: JournalAction): unknown {
  if (!(err instanceof LedgerError)) return err;
  const context = { ...err.context, tradeId: action.tradeId, actionId: String(action.id) };
  return new LedgerError(err.code, err.ledger, err.message, context, { cause: err });
}

const sameParams = (a: Readonly<Params>, b: Readonly<Params>): boolean => {
  const keys = Object.keys(a).sort();
  return keys.join() === Object.keys(b).sort().join() && keys.every((k) => a[k] === b[k]);
};

/**
 * Performs `spec` on `connector` (the ledger of the trade's `leg`) for trade `tradeId`, journaled. Final ledger errors
 * are recorded as `failed` and rethrown; other errors leave the action unfinished for a resume.
 * A retry of an action left unfinished by such an error (same trade, leg, ledger, kind
 * and parameters) resumes that action, so its journaled transaction is settled first and no second
 * action is recorded beside it.
 */
export async function performAction(
  journal: ActionJournal,
  connector: LedgerConnector,
  target: { readonly tradeId: string; readonly leg: LegName },
  spec: ActionSpec,
  crash: CrashPoint = noCrashPoint,
): Promise<ActionOutcome> {
  const params = encodeSpec(spec);
  const open = journal
    .forTrade(target.tradeId)
    .find(
      (a) =>
        (a.state === 'intent' || a.state === 'prepared') &&
        a.leg === target.leg &&
        a.ledger === connector.ledger &&
        a.kind === spec.kind &&
        sameParams(a.params, params),
    );
  if (open) return resumeAction(journal, connector, open, crash);
  const action = journal.recordIntent({ ...target, ledger: connector.ledger, kind: spec.kind, params });
  return run(journal, connector, action, spec, crash);
}

/** Settles one unfinished action (see the file comment). */
export async function resumeAction(
  journal: ActionJournal,
  connector: LedgerConnector,
  action: JournalAction,
  crash: CrashPoint = noCrashPoint,
): Promise<ActionOutcome> {
  const spec = decodeSpec(action.kind, action.params);
  if (action.state === 'prepared' && action.txId !== undefined && action.ledgerRef !== undefined) {
    const prepared = {
      ledgerRef: action.ledgerRef,
      txId: action.txId,
      ...(action.payload !== undefined && { payload: action.payload }),
    };
    let resolution: Awaited<ReturnType<LedgerConnector['resolvePrepared']>>;
    try {
      resolution = await connector.resolvePrepared(prepared);
    } catch (err) {
      // The journaled transaction was refused for good (e.g. resubmitted signed bytes whose
      // signer's certificate has since been renewed): it can never confirm, so a fresh
      // transaction is made below. A transient failure is left for the next attempt.
      if (!isFinal(err)) throw withTrade(err, action);
      resolution = { status: 'dropped' };
    }
    if (resolution.status === 'confirmed') {
      const outcome = { ...resolution.outcome, ledgerRef: resolution.ledgerRef };
      journal.recordDone(action.id, resultOf(outcome), outcome.ledgerRef);
      return { ...outcome, actionId: action.id };
    }
    if (resolution.status === 'reverted') {
      journal.recordFailed(action.id, resolution.error.message);
      throw resolution.error;
    }
  }
  // Intent only (never broadcast) or dropped (can never confirm): safe to perform now.
  return run(journal, connector, action, spec, crash);
}

/** Options of {@link resumeActions}. */
export interface ResumeOptions {
  /**
   * Intents (never sent) to leave to the caller's own loop instead of sending now: they are
   * recorded failed, and the loop decides again whether they are still wanted (the escrow
   * manager's first release, which reveals its secret, must not go out late).
   */
  readonly leaveIntent?: (action: JournalAction) => boolean;
}

/** The error recorded on an intent left to its caller's loop. */
export const INTENT_LEFT = 'never sent; left to the settlement loop to decide again';

/** Resumes every unfinished action, oldest first; failures are collected, not thrown. */
export async function resumeActions(
  journal: ActionJournal,
  connectors: Connectors,
  options: ResumeOptions = {},
): Promise<{
  readonly done: readonly ActionOutcome[];
  readonly failed: readonly { actionId: number; error: unknown }[];
}> {
  const done: ActionOutcome[] = [];
  const failed: { actionId: number; error: unknown }[] = [];
  for (const action of journal.unfinished()) {
    if (action.state === 'intent' && options.leaveIntent?.(action)) {
      journal.recordFailed(action.id, INTENT_LEFT);
      continue;
    }
    const connector = connectors[action.leg];
    if (!connector) {
      failed.push({ actionId: action.id, error: new Error(`no connector for the ${action.leg} leg`) });
      continue;
    }
    try {
      done.push(await resumeAction(journal, connector, action));
    } catch (error) {
      failed.push({ actionId: action.id, error });
    }
  }
  return { done, failed };
}
