/**
 * The counterparty's terms of each trade, as its gateway proposed them (table
 * `counterparty_terms`, migration 3): what matching compares an instruction against. One row per
 * (trade, sending party); a withdrawn proposal stays, marked so.
 */
import type { Actor } from '../core/trade';
import type { Db } from './db';

/** The counterparty's terms of a trade, as its gateway proposed them. */
export interface CounterpartyTerms {
  readonly tradeId: string;
  readonly from: string;
  readonly terms: Readonly<Record<string, string>>;
  /** The verified signer of the proposal. */
  readonly actor: Actor;
  readonly state: 'active' | 'withdrawn';
}

interface TermsRow {
  owner: string;
  trade_id: string;
  from_party: string;
  terms: string;
  actor: string;
  state: 'active' | 'withdrawn';
}

/** The proposed terms of every trade of the store's party. */
export class CounterpartyTermsStore {
  readonly #db: Db;
  readonly #party: string;

  constructor(db: Db, party: string) {
    this.#db = db;
    this.#party = party;
  }

  /** Stores (or replaces) the terms `t.from` proposed; each sending party has its own row. */
  put(t: Omit<CounterpartyTerms, 'state'>, at: string): void {
    this.#db
      .prepare(
        `INSERT INTO counterparty_terms (owner, trade_id, from_party, terms, actor, state, received_at)
         VALUES (?, ?, ?, ?, ?, 'active', ?)
         ON CONFLICT (owner, trade_id, from_party) DO UPDATE SET
           terms = excluded.terms, actor = excluded.actor, state = 'active', received_at = excluded.received_at`,
      )
      .run(this.#party, t.tradeId, t.from, JSON.stringify(t.terms), JSON.stringify(t.actor), at);
  }

  /** The terms `from` proposed for the trade. */
  get(tradeId: string, from: string): CounterpartyTerms | undefined {
    const row = this.#db
      .prepare<[string, string, string], TermsRow>(
        'SELECT * FROM counterparty_terms WHERE owner = ? AND trade_id = ? AND from_party = ?',
      )
      .get(this.#party, tradeId, from);
    if (!row) return undefined;
    return {
      tradeId: row.trade_id,
      from: row.from_party,
      terms: JSON.parse(row.terms) as Record<string, string>,
      actor: JSON.parse(row.actor) as Actor,
      state: row.state,
    };
  }

  /** Active proposals of `from` for trades this gateway has no instruction for (yet). */
  unmatched(from: string): number {
    const row = this.#db
      .prepare<[string, string], { n: number }>(
        `SELECT COUNT(*) AS n FROM counterparty_terms c
         LEFT JOIN trades t ON t.owner = c.owner AND t.trade_id = c.trade_id
         WHERE c.owner = ? AND c.from_party = ? AND c.state = 'active' AND t.trade_id IS NULL`,
      )
      .get(this.#party, from);
    return row?.n ?? 0;
  }

  /** Withdraws what `from` proposed (only its own proposal). */
  withdraw(tradeId: string, from: string): void {
    this.#db
      .prepare(`UPDATE counterparty_terms SET state = 'withdrawn' WHERE owner = ? AND trade_id = ? AND from_party = ?`)
      .run(this.#party, tradeId, from);
  }
}
