/**
 * The notary's approval requests and answers (table `notary_approvals`, migration 6;
 * settlement/notary/notary.ts declares the port). One row per trade; the answer is written once.
 */
import type { ApprovalRecord, ApprovalState } from '../core/escrow';
import type { Db } from './db';

interface Row {
  trade_id: string;
  manager: string;
  terms_hash: string;
  terms: string;
  request: string;
  state: ApprovalState;
  reason: string | null;
  decided_by: string | null;
  approvals: string;
  answered: number;
  created_at: string;
  updated_at: string;
}

function toRecord(r: Row): ApprovalRecord {
  return {
    tradeId: r.trade_id,
    manager: r.manager,
    termsHash: r.terms_hash,
    terms: JSON.parse(r.terms) as Record<string, string>,
    request: JSON.parse(r.request) as Record<string, string>,
    state: r.state,
    ...(r.reason !== null && { reason: r.reason }),
    ...(r.decided_by !== null && { decidedBy: r.decided_by }),
    approvals: JSON.parse(r.approvals) as Record<string, string>,
    answered: r.answered === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The approval requests of the notary `party`. */
export class NotaryRecords {
  readonly #db: Db;
  readonly #party: string;
  readonly #now: () => Date;

  constructor(db: Db, party: string, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#party = party;
    this.#now = now;
  }

  /** Records a pending request unless the trade has one (then returns that one). */
  request(r: Pick<ApprovalRecord, 'tradeId' | 'manager' | 'termsHash' | 'terms' | 'request'>): ApprovalRecord {
    const at = this.#now().toISOString();
    this.#db
      .prepare(
        `INSERT OR IGNORE INTO notary_approvals (owner, trade_id, manager, terms_hash, terms, request, state,
           approvals, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', '{}', ?, ?)`,
      )
      .run(this.#party, r.tradeId, r.manager, r.termsHash, JSON.stringify(r.terms), JSON.stringify(r.request), at, at);
    return this.#get(r.tradeId);
  }

  get(tradeId: string): ApprovalRecord | undefined {
    const row = this.#db
      .prepare<[string, string], Row>('SELECT * FROM notary_approvals WHERE owner = ? AND trade_id = ?')
      .get(this.#party, tradeId);
    return row && toRecord(row);
  }

  list(query: { readonly state?: ApprovalState } = {}): readonly ApprovalRecord[] {
    const rows = this.#db
      .prepare<[string], Row>('SELECT * FROM notary_approvals WHERE owner = ? ORDER BY created_at DESC, trade_id')
      .all(this.#party);
    return rows.map(toRecord).filter((r) => query.state === undefined || r.state === query.state);
  }

  /** Writes the answer once: a request already answered keeps its answer and is returned as it is. */
  answer(tradeId: string, state: 'approved' | 'refused', reason: string, decidedBy: string): ApprovalRecord {
    this.#db
      .prepare(
        `UPDATE notary_approvals SET state = ?, reason = ?, decided_by = ?, updated_at = ?
         WHERE owner = ? AND trade_id = ? AND state = 'pending'`,
      )
      .run(state, reason, decidedBy, this.#now().toISOString(), this.#party, tradeId);
    return this.#get(tradeId);
  }

  /** Adds the ledger approvals given for an approved request. */
  approvals(tradeId: string, approvals: Readonly<Record<string, string>>): ApprovalRecord {
    const current = this.#get(tradeId);
    this.#db
      .prepare('UPDATE notary_approvals SET approvals = ?, updated_at = ? WHERE owner = ? AND trade_id = ?')
      .run(JSON.stringify({ ...current.approvals, ...approvals }), this.#now().toISOString(), this.#party, tradeId);
    return this.#get(tradeId);
  }

  /** The answer was queued to the manager. */
  markAnswered(tradeId: string): void {
    this.#db
      .prepare('UPDATE notary_approvals SET answered = 1 WHERE owner = ? AND trade_id = ?')
      .run(this.#party, tradeId);
  }

  #get(tradeId: string): ApprovalRecord {
    const r = this.get(tradeId);
    if (!r) throw new Error(`no approval request of ${tradeId} at ${this.#party}`);
    return r;
  }
}
