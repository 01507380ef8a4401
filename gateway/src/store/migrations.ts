/**
 * Versioned schema migrations. Each entry runs once, in order, inside one transaction together
 * with the bump of `PRAGMA user_version`; never edit a released entry, append a new one.
 */

/** One schema step: `version` is the `user_version` after it has run. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

const v1 = `
CREATE TABLE trades (
  owner TEXT NOT NULL,
  trade_id TEXT NOT NULL,
  counterparty TEXT NOT NULL,
  instruction TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  own_cancel INTEGER NOT NULL DEFAULT 0,
  counterparty_cancel INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (owner, trade_id)
) STRICT;
CREATE INDEX trades_by_status ON trades (owner, status, created_at);
CREATE INDEX trades_by_created ON trades (owner, created_at);

CREATE TABLE timeline (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner TEXT NOT NULL,
  trade_id TEXT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  event TEXT NOT NULL,
  status TEXT NOT NULL,
  ledger TEXT,
  tx_id TEXT,
  block TEXT,
  detail TEXT,
  FOREIGN KEY (owner, trade_id) REFERENCES trades (owner, trade_id)
) STRICT;
CREATE INDEX timeline_by_trade ON timeline (owner, trade_id, id);

CREATE TABLE idempotency_keys (
  owner TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  trade_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (owner, idem_key)
) STRICT;

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  party TEXT NOT NULL,
  event TEXT NOT NULL,
  trade_id TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_trade ON audit_log (trade_id, seq);
CREATE INDEX audit_by_party ON audit_log (party, seq);

CREATE TABLE ledger_actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner TEXT NOT NULL,
  trade_id TEXT NOT NULL,
  ledger TEXT NOT NULL,
  kind TEXT NOT NULL,
  params TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('intent', 'prepared', 'done', 'failed')),
  ledger_ref TEXT,
  tx_id TEXT,
  payload TEXT,
  result TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX ledger_actions_open ON ledger_actions (state) WHERE state IN ('intent', 'prepared');
CREATE INDEX ledger_actions_by_trade ON ledger_actions (owner, trade_id, id);

CREATE TABLE follower_checkpoints (
  ledger TEXT NOT NULL,
  stream TEXT NOT NULL,
  last_block INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (ledger, stream)
) STRICT;

CREATE TABLE ledger_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ledger TEXT NOT NULL,
  stream TEXT NOT NULL,
  block INTEGER NOT NULL,
  log_index INTEGER NOT NULL,
  tx_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  ref TEXT NOT NULL,
  data TEXT NOT NULL,
  handled_at TEXT,
  UNIQUE (ledger, stream, block, log_index)
) STRICT;
CREATE INDEX ledger_events_unhandled ON ledger_events (ledger, stream, id) WHERE handled_at IS NULL;
`;

const v2 = `
CREATE TABLE peer_outbox (
  owner TEXT NOT NULL,
  to_party TEXT NOT NULL,
  trade_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  content_key TEXT NOT NULL,
  envelope TEXT NOT NULL,
  hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT,
  PRIMARY KEY (owner, to_party, trade_id, seq),
  UNIQUE (owner, to_party, trade_id, content_key)
) STRICT;
CREATE INDEX peer_outbox_pending ON peer_outbox (state, owner, to_party, trade_id, seq) WHERE state = 'pending';

CREATE TABLE peer_inbox (
  owner TEXT NOT NULL,
  from_party TEXT NOT NULL,
  trade_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  signer_fingerprint TEXT NOT NULL,
  envelope TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (owner, from_party, trade_id, seq)
) STRICT;

CREATE TABLE counterparty_terms (
  owner TEXT NOT NULL,
  trade_id TEXT NOT NULL,
  from_party TEXT NOT NULL,
  terms TEXT NOT NULL,
  actor TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'withdrawn')),
  received_at TEXT NOT NULL,
  PRIMARY KEY (owner, trade_id)
) STRICT;
`;

const v3 = `
CREATE TABLE counterparty_terms_v3 (
  owner TEXT NOT NULL,
  trade_id TEXT NOT NULL,
  from_party TEXT NOT NULL,
  terms TEXT NOT NULL,
  actor TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'withdrawn')),
  received_at TEXT NOT NULL,
  PRIMARY KEY (owner, trade_id, from_party)
) STRICT;
INSERT INTO counterparty_terms_v3 SELECT owner, trade_id, from_party, terms, actor, state, received_at
  FROM counterparty_terms;
DROP TABLE counterparty_terms;
ALTER TABLE counterparty_terms_v3 RENAME TO counterparty_terms;
ALTER TABLE peer_outbox ADD COLUMN next_attempt_at TEXT;
`;

// Gateways before v4 created this table on first use (IF NOT EXISTS keeps their rows).
const v4 = `
CREATE TABLE IF NOT EXISTS htlc_secrets (
  owner TEXT NOT NULL, trade_id TEXT NOT NULL, preimage TEXT NOT NULL, hashlock TEXT NOT NULL,
  PRIMARY KEY (owner, trade_id));
`;

// A trade's leg (securities, cash) is not a ledger (fabric, evm): steps and actions record both.
// Before v5 the securities leg was recorded as ledger 'fabric' even on the EVM stand-in, so the
// leg of older rows follows from that name.
const v5 = `
ALTER TABLE timeline ADD COLUMN leg TEXT CHECK (leg IN ('securities', 'cash'));
UPDATE timeline SET leg = CASE ledger WHEN 'fabric' THEN 'securities' ELSE 'cash' END WHERE ledger IS NOT NULL;
ALTER TABLE ledger_actions ADD COLUMN leg TEXT NOT NULL DEFAULT 'cash' CHECK (leg IN ('securities', 'cash'));
UPDATE ledger_actions SET leg = 'securities' WHERE ledger = 'fabric';
`;

// The orchestrated escrow: the manager's registrations and managed trades (the secret stays in
// this table, never in an API answer), and the notary's approval requests.
const v6 = `
CREATE TABLE escrow_registrations (
  owner TEXT NOT NULL, trade_id TEXT NOT NULL, party TEXT NOT NULL, terms TEXT NOT NULL,
  terms_hash TEXT NOT NULL, received_at TEXT NOT NULL,
  PRIMARY KEY (owner, trade_id, party)
) STRICT;
CREATE TABLE managed_trades (
  owner TEXT NOT NULL, trade_id TEXT NOT NULL, terms TEXT NOT NULL, terms_hash TEXT NOT NULL,
  secret TEXT NOT NULL, hashlock TEXT NOT NULL, decision_deadline INTEGER NOT NULL, expiry INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('instructed', 'verified', 'approving', 'decided', 'settled', 'aborted')),
  decision TEXT CHECK (decision IN ('commit', 'abort')), reason TEXT, evidence TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, decided_at TEXT,
  PRIMARY KEY (owner, trade_id)
) STRICT;
CREATE TABLE notary_approvals (
  owner TEXT NOT NULL, trade_id TEXT NOT NULL, manager TEXT NOT NULL, terms_hash TEXT NOT NULL,
  terms TEXT NOT NULL, request TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused')), reason TEXT, decided_by TEXT,
  approvals TEXT NOT NULL, answered INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (owner, trade_id)
) STRICT;
`;

// The observer's log (store/observer.ts).
const v7 = `
CREATE TABLE observer_log (
  seq INTEGER PRIMARY KEY,
  received_at TEXT NOT NULL,
  from_party TEXT NOT NULL,
  trade_id TEXT NOT NULL,
  step TEXT NOT NULL,
  envelope_hash TEXT NOT NULL UNIQUE,
  envelope TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;
CREATE INDEX observer_log_by_trade ON observer_log (trade_id, seq);
CREATE INDEX observer_log_by_party ON observer_log (from_party, seq);
CREATE INDEX observer_log_by_received ON observer_log (received_at);
`;

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'trades, timeline, idempotency, audit log, ledger journal, followers', sql: v1 },
  { version: 2, description: 'gateway messaging: outbox, inbox chains, counterparty terms', sql: v2 },
  { version: 3, description: 'counterparty terms kept per sending party; outbox retry backoff', sql: v3 },
  { version: 4, description: "the HTLC leader's secrets (created here, no longer on first use)", sql: v4 },
  { version: 5, description: 'timeline steps and ledger actions name their leg besides their ledger', sql: v5 },
  { version: 6, description: "orchestrated escrow: the manager's trades, the notary's approvals", sql: v6 },
  { version: 7, description: "the observer's hash-chained log of the records it received", sql: v7 },
];
