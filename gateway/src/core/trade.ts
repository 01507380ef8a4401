/**
 * The boundary between the gateway's HTTP layer (routes, identity, validation) and its durable
 * trade engine (SQLite store, state machine, audit log, settlement modes). The HTTP layer only
 * calls {@link TradeService}; the engine never sees express.
 */

/** ISO 20022 sese.024-style statuses (DESIGN.md section 4). */
export type TradeStatus =
  'received' | 'matched' | 'held' | 'pending' | 'failing' | 'partially_settled' | 'settled' | 'cancelled' | 'failed';

export type SettlementModeName = 'htlc' | 'escrow_orchestrated' | 'escrow_choreographed';

/** An operator's settlement instruction, as posted to `POST /v1/trades` (already validated). */
export interface TradeInstruction {
  readonly tradeId: string;
  readonly side: 'buy' | 'sell';
  /** Party id of the counterparty (directory key). */
  readonly counterparty: string;
  readonly isin: string;
  /** Units of the security, integer. */
  readonly quantity: bigint;
  /** Cash per unit in the currency's smallest unit, integer. */
  readonly price: bigint;
  readonly currency: string;
  readonly mode: SettlementModeName;
  /** Unix seconds. */
  readonly settlementDeadline: number;
  readonly partial: 'PART' | 'NPAR';
  /**
   * Mode `escrow_orchestrated`: the escrow manager (required), and the notary and observer the
   * trade names (optional); party ids of the directory, compared like matching fields.
   */
  readonly escrow?: EscrowParties;
}

/** The parties of an orchestrated escrow besides buyer and seller. */
export interface EscrowParties {
  readonly manager: string;
  readonly notary?: string;
  readonly observer?: string;
}

/** Who did something: the verified certificate behind a request or message. */
export interface Actor {
  readonly party: string;
  readonly subject: string;
  readonly role: string;
  /** SHA-256 of the DER certificate, hex. */
  readonly fingerprint: string;
}

/** One step of a trade's timeline. */
export interface TimelineStep {
  /** ISO 8601. */
  readonly at: string;
  readonly actor: string;
  readonly event: string;
  readonly status: TradeStatus;
  /** The leg the step concerns, and the ledger it ran on. */
  readonly leg?: LegName;
  readonly ledger?: LedgerName;
  readonly txId?: string;
  readonly block?: string;
  readonly detail?: Readonly<Record<string, string>>;
}

export interface Trade {
  readonly tradeId: string;
  /** The party that owns this record (the gateway's own bank). */
  readonly owner: string;
  readonly instruction: TradeInstruction;
  readonly status: TradeStatus;
  /** Reason code for `failed` / `cancelled`. */
  readonly reason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly timeline: readonly TimelineStep[];
}

export interface TradeQuery {
  readonly status?: TradeStatus;
  readonly counterparty?: string;
  /** ISO 8601 bounds on createdAt. */
  readonly from?: string;
  readonly to?: string;
}

export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  /** SHA-256 fingerprint of the actor's certificate. */
  readonly actor: string;
  readonly party: string;
  readonly event: string;
  readonly tradeId: string | null;
  readonly prevHash: string;
  readonly hash: string;
}

export interface AuditQuery {
  readonly tradeId?: string;
  readonly party?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  /** Verification of the whole chain (not just the filtered page). */
  readonly verification: { readonly ok: boolean; readonly checked: number; readonly firstBadSeq?: number };
}

/** Result of an idempotent submit: `replayed` is true when the key was seen with the same body. */
export interface SubmitResult {
  readonly trade: Trade;
  readonly replayed: boolean;
}

/** The two ledgers a gateway talks to. */
export type LedgerName = 'fabric' | 'evm';

/**
 * The two legs of a trade: the securities (seller → buyer) and the cash (buyer → seller). A leg
 * is not a ledger: securities are on Fabric, or on the EVM where the stand-in holds them as tokens.
 */
export type LegName = 'securities' | 'cash';

/**
 * Timeline event of the counterparty's affirmation that it matched the same terms (the hash of
 * both views agrees): DESIGN.md 3.1 step 1, "both gateways hold the same trade terms".
 */
export const AFFIRMED_EVENT = 'counterparty_affirmed';

/** Timeline event of this side's own cancel request on a matched trade (waiting for the other side). */
export const CANCEL_REQUESTED_OWN = 'cancel_requested_own';
