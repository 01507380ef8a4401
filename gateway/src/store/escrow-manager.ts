/**
 * The escrow manager's records (settlement/escrow-orchestrated/manager.ts declares the port): each
 * bank's registration of a trade's terms (table `escrow_registrations`) and the managed trades
 * (table `managed_trades`, with the secret, which no reader outside the manager gets). The
 * decision is written once: {@link ManagerRecords.decide} never changes a recorded one.
 */
import type { EscrowDecision, ManagedState, ManagedTrade } from '../core/escrow';
import type { Db } from './db';

/** A bank's registration of a trade. */
export interface Registration {
  readonly party: string;
  readonly terms: Readonly<Record<string, string>>;
  readonly termsHash: string;
}

/** A managed trade as first recorded (state `instructed`, no decision). */
export type NewManagedTrade = Omit<ManagedTrade, 'state' | 'decision' | 'reason' | 'createdAt' | 'updatedAt'>;

interface Row {
  trade_id: string;
  terms: string;
  terms_hash: string;
  hashlock: string;
  decision_deadline: number;
  expiry: number;
  state: ManagedState;
  decision: EscrowDecision | null;
  reason: string | null;
  evidence: string;
  created_at: string;
  updated_at: string;
  decided_at: string | null;
}

const TERMINAL: readonly ManagedState[] = ['settled', 'aborted'];

function toManaged(r: Row): ManagedTrade {
  const terms = JSON.parse(r.terms) as Record<string, string>;
  const notary = terms['escrowNotary'];
  const observer = terms['escrowObserver'];
  return {
    tradeId: r.trade_id,
    terms,
    termsHash: r.terms_hash,
    buyer: terms['buyer'] ?? '',
    seller: terms['seller'] ?? '',
    ...(notary && { notary }),
    ...(observer && { observer }),
    hashlock: r.hashlock,
    decisionDeadline: r.decision_deadline,
    expiry: r.expiry,
    state: r.state,
    ...(r.decision !== null && { decision: r.decision }),
    ...(r.reason !== null && { reason: r.reason }),
    evidence: JSON.parse(r.evidence) as Record<string, string>,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.decided_at !== null && { decidedAt: r.decided_at }),
  };
}

/** The manager's records of `party` (the manager itself) in `db`. */
export class ManagerRecords {
  readonly #db: Db;
  readonly #party: string;
  readonly #now: () => Date;

  constructor(db: Db, party: string, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#party = party;
    this.#now = now;
  }

  /** Stores (or replaces) `r.party`'s registration; returns every registration of the trade. */
  register(tradeId: string, r: Registration): readonly Registration[] {
    this.#db
      .prepare(
        `INSERT INTO escrow_registrations (owner, trade_id, party, terms, terms_hash, received_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (owner, trade_id, party) DO UPDATE SET
           terms = excluded.terms, terms_hash = excluded.terms_hash, received_at = excluded.received_at`,
      )
      .run(this.#party, tradeId, r.party, JSON.stringify(r.terms), r.termsHash, this.#now().toISOString());
    return this.registrations(tradeId);
  }

  registrations(tradeId: string): readonly Registration[] {
    const rows = this.#db
      .prepare<[string, string], { party: string; terms: string; terms_hash: string }>(
        'SELECT party, terms, terms_hash FROM escrow_registrations WHERE owner = ? AND trade_id = ? ORDER BY party',
      )
      .all(this.#party, tradeId);
    return rows.map((r) => ({
      party: r.party,
      terms: JSON.parse(r.terms) as Record<string, string>,
      termsHash: r.terms_hash,
    }));
  }

  /** Records a managed trade with its secret, unless one exists (then returns that one). */
  create(trade: NewManagedTrade, secret: string): ManagedTrade {
    const at = this.#now().toISOString();
    this.#db
      .prepare(
        `INSERT OR IGNORE INTO managed_trades (owner, trade_id, terms, terms_hash, secret, hashlock,
           decision_deadline, expiry, state, evidence, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'instructed', ?, ?, ?)`,
      )
      .run(
        this.#party,
        trade.tradeId,
        JSON.stringify(trade.terms),
        trade.termsHash,
        secret,
        trade.hashlock,
        trade.decisionDeadline,
        trade.expiry,
        JSON.stringify(trade.evidence),
        at,
        at,
      );
    return this.#get(trade.tradeId);
  }

  get(tradeId: string): ManagedTrade | undefined {
    const row = this.#db
      .prepare<[string, string], Row>('SELECT * FROM managed_trades WHERE owner = ? AND trade_id = ?')
      .get(this.#party, tradeId);
    return row && toManaged(row);
  }

  /** The secret of a managed trade (the manager's only; revealed by a commit). */
  secret(tradeId: string): string | undefined {
    return this.#db
      .prepare<[string, string], { secret: string }>(
        'SELECT secret FROM managed_trades WHERE owner = ? AND trade_id = ?',
      )
      .get(this.#party, tradeId)?.secret;
  }

  /** Managed trades, newest first; `active` only those not settled or aborted. */
  list(query: { readonly state?: ManagedState; readonly active?: boolean } = {}): readonly ManagedTrade[] {
    const rows = this.#db
      .prepare<[string], Row>('SELECT * FROM managed_trades WHERE owner = ? ORDER BY created_at DESC, trade_id')
      .all(this.#party);
    return rows
      .map(toManaged)
      .filter(
        (t) => (query.state === undefined || t.state === query.state) && (!query.active || !TERMINAL.includes(t.state)),
      );
  }

  /** Moves the trade to `state` (if given) and merges `evidence` into what it has. */
  update(
    tradeId: string,
    change: { readonly state?: ManagedState; readonly evidence?: Readonly<Record<string, string>> },
  ): ManagedTrade {
    const current = this.#get(tradeId);
    const evidence = { ...current.evidence, ...change.evidence };
    this.#db
      .prepare('UPDATE managed_trades SET state = ?, evidence = ?, updated_at = ? WHERE owner = ? AND trade_id = ?')
      .run(change.state ?? current.state, JSON.stringify(evidence), this.#now().toISOString(), this.#party, tradeId);
    return this.#get(tradeId);
  }

  /**
   * Records the decision once (state `decided`); a trade already decided keeps its decision and
   * is returned as it is, so a second call (a retry, a race) can never change it.
   */
  decide(
    tradeId: string,
    decision: EscrowDecision,
    reason: string,
    evidence: Readonly<Record<string, string>> = {},
  ): ManagedTrade {
    const current = this.#get(tradeId);
    if (current.decision !== undefined) return current;
    const at = this.#now().toISOString();
    this.#db
      .prepare(
        `UPDATE managed_trades SET state = 'decided', decision = ?, reason = ?, evidence = ?, decided_at = ?, updated_at = ?
         WHERE owner = ? AND trade_id = ? AND decision IS NULL`,
      )
      .run(decision, reason, JSON.stringify({ ...current.evidence, ...evidence }), at, at, this.#party, tradeId);
    return this.#get(tradeId);
  }

  #get(tradeId: string): ManagedTrade {
    const t = this.get(tradeId);
    if (!t) throw new Error(`managed trade ${tradeId} of ${this.#party} does not exist`);
    return t;
  }
}
