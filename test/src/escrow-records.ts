/**
 * What the orchestrated escrow's parties of their own recorded, read beside their running
 * processes (escrow-parties.ts): the manager's record of a trade, any gateway's journaled ledger
 * actions, the notary's answer and the observer's log, each read-only from the party's database.
 * The checks of the notary's and the observer's answers ({@link approvalProblems},
 * {@link observationProblems}, {@link observationVerificationProblems}) take the database's view
 * or the operator API's GET answer alike (same fields), and return what is wrong (empty: nothing).
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { sleep, type GatewayProcess } from './two-banks';

/** A read-only look at a gateway's database (WAL mode: the process keeps writing). */
function readDb<T>(dbFile: string, read: (db: Database.Database) => T): T | undefined {
  if (!existsSync(dbFile)) return undefined;
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The manager's record of a trade (no secret): state, decision, reason, evidence. */
export interface ManagedTradeRow {
  readonly state: string;
  readonly decision: string | null;
  readonly reason: string | null;
  readonly decidedAt: string | null;
  readonly evidence: Readonly<Record<string, string>>;
}

export function managedTrade(manager: GatewayProcess, tradeId: string): ManagedTradeRow | undefined {
  return readDb(manager.dbFile, (db) => {
    const row = db
      .prepare(
        'SELECT state, decision, reason, decided_at AS decidedAt, evidence FROM managed_trades WHERE trade_id = ?',
      )
      .get(tradeId) as (Omit<ManagedTradeRow, 'evidence'> & { evidence: string }) | undefined;
    return row && { ...row, evidence: JSON.parse(row.evidence) as Record<string, string> };
  });
}

/** A gateway's journaled ledger actions of a trade (kind, leg, state), oldest first. */
export function journaledActions(
  gw: GatewayProcess,
  tradeId: string,
): readonly { readonly kind: string; readonly leg: string; readonly state: string }[] {
  return (
    readDb(
      gw.dbFile,
      (db) =>
        db.prepare('SELECT kind, leg, state FROM ledger_actions WHERE trade_id = ? ORDER BY id').all(tradeId) as {
          kind: string;
          leg: string;
          state: string;
        }[],
    ) ?? []
  );
}

/** Polls the party's database until `predicate` holds on what `read` returns, then runs `act` at once. */
export async function whenRecorded<T>(
  read: () => T | undefined,
  predicate: (row: T) => boolean,
  act: () => void | Promise<void>,
  withinMs = 60_000,
): Promise<T> {
  for (const deadline = Date.now() + withinMs; Date.now() < deadline; await sleep(5)) {
    const row = read();
    if (row !== undefined && predicate(row)) {
      await act();
      return row;
    }
  }
  throw new Error(`the awaited record did not appear within ${withinMs} ms`);
}

/** The notary's answer to a request, as its database holds it (the fields of `GET /v1/approvals/{tradeId}`). */
export interface ApprovalView {
  readonly tradeId: string;
  readonly state: string;
  readonly reason?: string;
  readonly decidedBy?: string;
  readonly escrows: Readonly<Record<string, string>>;
  readonly approvals: Readonly<Record<string, string>>;
  readonly answered: boolean;
}

export function notaryApproval(notary: GatewayProcess, tradeId: string): ApprovalView | undefined {
  return readDb(notary.dbFile, (db) => {
    const row = db
      .prepare(
        'SELECT state, reason, decided_by, request, approvals, answered FROM notary_approvals WHERE trade_id = ?',
      )
      .get(tradeId) as
      | {
          state: string;
          reason: string | null;
          decided_by: string | null;
          request: string;
          approvals: string;
          answered: number;
        }
      | undefined;
    if (!row) return undefined;
    const request = JSON.parse(row.request) as Record<string, string>;
    return {
      tradeId,
      state: row.state,
      ...(row.reason !== null && { reason: row.reason }),
      ...(row.decided_by !== null && { decidedBy: row.decided_by }),
      escrows: {
        ...(request['securitiesEscrow'] !== undefined && { securities: request['securitiesEscrow'] }),
        ...(request['cashEscrow'] !== undefined && { cash: request['cashEscrow'] }),
      },
      approvals: JSON.parse(row.approvals) as Record<string, string>,
      answered: row.answered === 1,
    };
  });
}

/** What the notary should have answered. */
export interface ExpectedApproval {
  readonly state: 'approved' | 'refused';
  /** Each leg's escrow id (approved: each with its ledger approval). */
  readonly escrows: Readonly<Record<'securities' | 'cash', string>>;
  /** Refused: a pattern the reason must match. */
  readonly reason?: RegExp;
}

/**
 * What is wrong with the notary's answer (empty: nothing): its database's ({@link notaryApproval})
 * or its API's (`GET /v1/approvals/{tradeId}` answer's `json`), which have the same fields.
 */
export function approvalProblems(a: Partial<ApprovalView> | undefined, want: ExpectedApproval): string[] {
  if (!a) return ['the notary has no request of the trade'];
  const problems: string[] = [];
  if (a.state !== want.state) problems.push(`state is ${a.state}, not ${want.state}`);
  if (a.answered !== true) problems.push('the answer was not delivered to the manager');
  problems.push(...escrowIdProblems(a.escrows ?? {}, want.escrows));
  if (want.state === 'approved') problems.push(...ledgerApprovalProblems(a.approvals ?? {}));
  if (want.reason && !want.reason.test(a.reason ?? '')) problems.push(`reason is ${a.reason}`);
  return problems;
}

function escrowIdProblems(
  got: Readonly<Record<string, string>>,
  want: Readonly<Record<'securities' | 'cash', string>>,
): string[] {
  return (['securities', 'cash'] as const)
    .filter((leg) => got[leg]?.toLowerCase() !== want[leg].toLowerCase())
    .map((leg) => `the ${leg} escrow is ${got[leg]}, not ${want[leg]}`);
}

function ledgerApprovalProblems(approvals: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  // Fabric: the notary's own EscrowApprove transaction; EVM: its EIP-712 signature.
  if (!/^(onledger:[0-9a-f]{64}|0x[0-9a-f]{130})$/.test(approvals['securities'] ?? ''))
    problems.push(`securities approval is ${approvals['securities']}`);
  if (!/^0x[0-9a-f]{130}$/.test(approvals['cash'] ?? '')) problems.push(`cash approval is ${approvals['cash']}`);
  return problems;
}

/** One entry of the observer's log, as its database holds it (fields of `GET /v1/observations` entries). */
export interface ObservationView {
  readonly seq: number;
  readonly from: string;
  readonly tradeId: string;
  readonly step: string;
  readonly leg?: string;
  readonly escrowId?: string;
  readonly decision?: string;
  readonly txId?: string;
}

export function observedEntries(observer: GatewayProcess, tradeId: string): readonly ObservationView[] {
  const rows =
    readDb(
      observer.dbFile,
      (db) =>
        db
          .prepare('SELECT seq, from_party, step, envelope FROM observer_log WHERE trade_id = ? ORDER BY seq')
          .all(tradeId) as { seq: number; from_party: string; step: string; envelope: string }[],
    ) ?? [];
  return rows.map((r) => {
    const body = (JSON.parse(r.envelope) as { body?: Record<string, string> }).body ?? {};
    const pick = (k: string) => (body[k] !== undefined ? { [k]: body[k] } : {});
    return {
      seq: r.seq,
      from: r.from_party,
      tradeId,
      step: r.step,
      ...pick('leg'),
      ...pick('escrowId'),
      ...pick('decision'),
      ...pick('txId'),
    };
  });
}

/** What the observer should have been told of a trade. */
export interface ExpectedObservations {
  /** Steps that must each be in the log at least once (protocol order is not checked). */
  readonly steps: readonly string[];
  readonly decision: 'commit' | 'abort';
  /** Each leg's escrow id; each leg's end (`released` / `returned`) must name it. */
  readonly escrows: Readonly<Record<'securities' | 'cash', string>>;
}

/**
 * What is wrong with the observer's log of the trade (empty: nothing): its database's entries
 * ({@link observedEntries}) or its API's (`GET /v1/observations?tradeId=…&verifyLedgers=true`
 * answer's `json.entries`; check its `json.verification` with {@link observationVerificationProblems}).
 */
export function observationProblems(
  entries: readonly Partial<ObservationView>[],
  want: ExpectedObservations,
): string[] {
  const problems: string[] = [];
  const steps = new Set(entries.map((e) => e.step));
  for (const s of want.steps) if (!steps.has(s)) problems.push(`no ${s} record`);
  const decided = entries.filter((e) => e.step === 'decided').map((e) => e.decision);
  if (decided.length === 0 || decided.some((d) => d !== want.decision))
    problems.push(`decided records say ${decided.join(', ') || 'nothing'}, not ${want.decision}`);
  const end = want.decision === 'commit' ? 'released' : 'returned';
  for (const leg of ['securities', 'cash'] as const) {
    const ends = entries.filter((e) => e.step === end && e.leg === leg);
    if (!ends.some((e) => e.escrowId?.toLowerCase() === want.escrows[leg].toLowerCase()))
      problems.push(`no ${end} record of the ${leg} escrow ${want.escrows[leg]}`);
  }
  return problems;
}

/**
 * What is wrong with the verification part of the observer's API answer (`json.verification` of
 * `GET /v1/observations?tradeId=…&verifyLedgers=true`): the chain, every signature and every
 * record against both ledgers must hold.
 */
export function observationVerificationProblems(verification: unknown): string[] {
  const v = (verification ?? {}) as Record<string, { ok?: boolean } | undefined>;
  return ['chain', 'signatures', 'records', 'ledgers'].filter((k) => v[k]?.ok !== true).map((k) => `${k} not verified`);
}
