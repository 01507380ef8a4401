/**
 * The records of the orchestrated escrow (settlement/escrow-orchestrated/README.md) that the store
 * keeps and the API shows: a trade as its escrow manager manages it, and a settlement as its
 * notary approves it. The protocol itself is in settlement/escrow-orchestrated/.
 */

/** The manager's one decision about a trade: never changed once recorded. */
export type EscrowDecision = 'commit' | 'abort';

/**
 * Where a managed trade stands: `instructed` (both banks registered the same terms, instructions
 * sent), `verified` (both deposits right on the ledgers), `approving` (the notary was asked),
 * `decided` (decision recorded, being carried out), `settled` / `aborted` (carried out).
 */
export type ManagedState = 'instructed' | 'verified' | 'approving' | 'decided' | 'settled' | 'aborted';

/** A trade as its escrow manager sees it. */
export interface ManagedTrade {
  readonly tradeId: string;
  /** The matching terms both banks registered (strings, as in their `register` messages). */
  readonly terms: Readonly<Record<string, string>>;
  readonly termsHash: string;
  readonly buyer: string;
  readonly seller: string;
  readonly notary?: string;
  readonly observer?: string;
  /** SHA-256 of the manager's secret, 0x-hex: the hashlock of both escrows. */
  readonly hashlock: string;
  /** Unix seconds: commit only before it. */
  readonly decisionDeadline: number;
  /** Unix seconds: both escrows' expiry (at least the deadline plus Δ). */
  readonly expiry: number;
  readonly state: ManagedState;
  readonly decision?: EscrowDecision;
  readonly reason?: string;
  /** Evidence gathered on the way (escrow ids, deposit transactions, the notary's answer). */
  readonly evidence: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly decidedAt?: string;
}

/** A notary's approval request and its answer. */
export type ApprovalState = 'pending' | 'approved' | 'refused';

export interface ApprovalRecord {
  readonly tradeId: string;
  /** The party that asked (the trade's escrow manager). */
  readonly manager: string;
  readonly termsHash: string;
  readonly terms: Readonly<Record<string, string>>;
  /** The request's escrow ids and amounts, by field name (securitiesEscrow, cashEscrow, ...). */
  readonly request: Readonly<Record<string, string>>;
  readonly state: ApprovalState;
  readonly reason?: string;
  /** `rule` or the fingerprint of the operator who answered. */
  readonly decidedBy?: string;
  /** The ledger approvals once given (securitiesApproval, cashApproval). */
  readonly approvals: Readonly<Record<string, string>>;
  /** True once the answer was queued to the manager. */
  readonly answered: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * One of the escrow manager's ledger actions (a release or a return) as its operator sees it:
 * where it was sent and where it landed, without its parameters or signed payload (a release's
 * carry the secret).
 */
export interface ManagedLedgerAction {
  readonly leg: 'securities' | 'cash';
  readonly ledger: 'fabric' | 'evm';
  readonly kind: 'release' | 'return';
  /** `intent`, `prepared`, `done` or `failed` (core/journal.ts). */
  readonly state: 'intent' | 'prepared' | 'done' | 'failed';
  readonly escrowId?: string;
  readonly txId?: string;
  readonly block?: string;
  readonly attempts: number;
  readonly updatedAt: string;
}
