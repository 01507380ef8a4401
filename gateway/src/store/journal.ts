/**
 * The ledger-action journal: every ledger action is recorded as an intent before anything is
 * signed, then as prepared (ledger-side id, transaction id and the signed payload) before it is
 * broadcast, then with its outcome. On restart, {@link ActionJournal.unfinished} lists what may
 * have reached a ledger without its outcome being known; `trades/journal.ts` resumes them.
 */
import type { LedgerName, LegName } from '../core/trade';
import { canonicalJson } from '../core/canonical';
import type { Db } from './db';
import type { ActionKind, ActionState, JournalAction } from '../core/journal';

/** Identifiers of a signed transaction, known before it is broadcast. */
export interface PreparedSend {
  /** Ledger-side object id (lock id, escrow id). */
  readonly ledgerRef: string;
  /** Transaction id / hash. */
  readonly txId: string;
  /** The signed transaction, so a resume can rebroadcast the very same bytes. */
  readonly payload?: string;
}

/** A new intent: what the action is, before any state. */
export type ActionIntent = Pick<JournalAction, 'tradeId' | 'leg' | 'ledger' | 'kind' | 'params'>;

interface ActionRow {
  id: number;
  owner: string;
  trade_id: string;
  leg: LegName;
  ledger: LedgerName;
  kind: ActionKind;
  params: string;
  state: ActionState;
  ledger_ref: string | null;
  tx_id: string | null;
  payload: string | null;
  result: string | null;
  error: string | null;
  attempts: number;
  created_at: string;
  updated_at: string;
}

function toAction(row: ActionRow): JournalAction {
  return {
    id: row.id,
    tradeId: row.trade_id,
    leg: row.leg,
    ledger: row.ledger,
    kind: row.kind,
    params: JSON.parse(row.params) as Record<string, string>,
    state: row.state,
    ...(row.ledger_ref !== null && { ledgerRef: row.ledger_ref }),
    ...(row.tx_id !== null && { txId: row.tx_id }),
    ...(row.payload !== null && { payload: row.payload }),
    ...(row.result !== null && { result: JSON.parse(row.result) as Record<string, string> }),
    ...(row.error !== null && { error: row.error }),
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Durable record of the ledger actions of the store's party (one table, `ledger_actions`). */
export class ActionJournal {
  readonly #db: Db;
  readonly #party: string;
  readonly #now: () => Date;

  /** Wraps an open, migrated database; `now` is injectable for tests. */
  constructor(db: Db, party: string, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#party = party;
    this.#now = now;
  }

  /** Records an intent (state `intent`) and returns it. */
  recordIntent(intent: ActionIntent): JournalAction {
    const at = this.#now().toISOString();
    const { lastInsertRowid } = this.#db
      .prepare(
        `INSERT INTO ledger_actions (owner, trade_id, leg, ledger, kind, params, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'intent', ?, ?)`,
      )
      .run(this.#party, intent.tradeId, intent.leg, intent.ledger, intent.kind, canonicalJson(intent.params), at, at);
    return this.get(Number(lastInsertRowid));
  }

  /** Records the signed transaction's ids before it is broadcast (state `prepared`). */
  recordPrepared(id: number, sent: PreparedSend): void {
    this.#update(
      id,
      `state = 'prepared', ledger_ref = ?, tx_id = ?, payload = ?, attempts = attempts + 1`,
      sent.ledgerRef,
      sent.txId,
      sent.payload ?? null,
    );
  }

  /** Records success; `result` may correct the ledger-side id (e.g. the lock id from the receipt). */
  recordDone(id: number, result: Readonly<Record<string, string>>, ledgerRef?: string): void {
    this.#update(
      id,
      `state = 'done', result = ?, ledger_ref = coalesce(?, ledger_ref)`,
      canonicalJson(result),
      ledgerRef ?? null,
    );
  }

  /** Records a final failure (e.g. a revert); the action will not be resumed. */
  recordFailed(id: number, error: string): void {
    this.#update(id, `state = 'failed', error = ?`, error);
  }

  /** One action; throws if unknown. */
  get(id: number): JournalAction {
    const row = this.#db
      .prepare<[number, string], ActionRow>('SELECT * FROM ledger_actions WHERE id = ? AND owner = ?')
      .get(id, this.#party);
    if (!row) throw new Error(`no journal action ${id}`);
    return toAction(row);
  }

  /** Actions whose outcome is not recorded (`intent` or `prepared`), oldest first. */
  unfinished(): readonly JournalAction[] {
    return this.#db
      .prepare<[string], ActionRow>(
        `SELECT * FROM ledger_actions WHERE owner = ? AND state IN ('intent', 'prepared') ORDER BY id`,
      )
      .all(this.#party)
      .map(toAction);
  }

  /** Every action of one trade, oldest first. */
  forTrade(tradeId: string): readonly JournalAction[] {
    return this.#db
      .prepare<[string, string], ActionRow>('SELECT * FROM ledger_actions WHERE owner = ? AND trade_id = ? ORDER BY id')
      .all(this.#party, tradeId)
      .map(toAction);
  }

  #update(id: number, set: string, ...values: (string | null)[]): void {
    const info = this.#db
      .prepare(`UPDATE ledger_actions SET ${set}, updated_at = ? WHERE id = ? AND owner = ?`)
      .run(...values, this.#now().toISOString(), id, this.#party);
    if (info.changes !== 1) throw new Error(`no journal action ${id}`);
  }
}
