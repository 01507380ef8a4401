/**
 * The records the chaincode stores and returns. Each is an `@Object` so contract metadata
 * (`org.hyperledger.fabric:GetMetadata`) describes it. Properties are declared in alphabetical
 * order so the serialized form has sorted keys, like everything written to state.
 * Quantities are decimal strings; times are unix seconds from the transaction timestamp.
 */
import { Object as DataType, Property } from 'fabric-contract-api';

/** Builds a record of class `cls` from plain fields (as read from state). */
export function record<T extends object>(cls: new () => T, fields: Readonly<T>): T {
  return Object.assign(new cls(), fields);
}

/** A security, identified by ISIN. */
@DataType()
export class Instrument {
  @Property() createdAt!: number;
  @Property() isin!: string;
  /** Total ever issued (decimal string). */
  @Property() issued!: string;
  /** Identity account of the issuer that created the instrument; only it may Issue/Redeem. */
  @Property() issuer!: string;
  /** Quantities moved must be multiples of this (decimal string, ≥ 1). */
  @Property() minSettlementUnit!: string;
  @Property() name!: string;
  /** Total ever redeemed (decimal string). */
  @Property() redeemed!: string;
}

/** A free balance of one ISIN in one account. */
@DataType()
export class Holding {
  @Property() account!: string;
  @Property() isin!: string;
  @Property() quantity!: string;
}

/** An explicit account id, owned by one identity. */
@DataType()
export class Account {
  @Property() accountId!: string;
  @Property() createdAt!: number;
  /** Identity account (`<mspId>:<subject>`) allowed to move this account's holdings. */
  @Property() owner!: string;
}

/** HTLC lifecycle. */
export type HtlcStatus = 'LOCKED' | 'CLAIMED' | 'REFUNDED';

/** A hash-time-locked quantity. */
@DataType()
export class HtlcLock {
  @Property() createdAt!: number;
  /** Claim allowed strictly before, refund at or after (unix seconds). */
  @Property() expiry!: number;
  /** SHA-256 of the preimage, 64 lower-case hex chars. */
  @Property() hashlock!: string;
  @Property() isin!: string;
  @Property() lockId!: string;
  /** Revealed preimage (64 hex chars) once claimed, else empty. */
  @Property() preimage!: string;
  @Property() quantity!: string;
  @Property() receiver!: string;
  @Property() sender!: string;
  /** Time of claim or refund, 0 while locked. */
  @Property() settledAt!: number;
  /** LOCKED, CLAIMED or REFUNDED. */
  @Property() status!: HtlcStatus;
}

/** Escrow lifecycle: OPEN until nothing remains, then RELEASED or RETURNED (by the last action). */
export type EscrowStatus = 'OPEN' | 'RELEASED' | 'RETURNED';

/**
 * A deposit held for a trade until released to the beneficiary or returned to the depositor. Its
 * id is derived from the depositor and the trade (escrow.ts `escrowIdOf`).
 */
@DataType()
export class Escrow {
  /** How many of the notary's approvals releases have used. */
  @Property() approvalsUsed!: number;
  /** The quantity the notary approved for the next release, '0' when none is pending. */
  @Property() approved!: string;
  @Property() beneficiary!: string;
  /** Identity account that may release or return. */
  @Property() controller!: string;
  @Property() createdAt!: number;
  @Property() depositor!: string;
  @Property() escrowId!: string;
  /** Depositor may take the rest back at or after; releases must happen strictly before. */
  @Property() expiry!: number;
  /** When non-empty, presenting its preimage also authorizes a release. */
  @Property() hashlock!: string;
  @Property() isin!: string;
  /** Identity account whose approval every release needs (`EscrowApprove`), or empty for none. */
  @Property() notary!: string;
  /** Last preimage presented for a release, else empty. */
  @Property() preimage!: string;
  /** Deposited quantity. */
  @Property() quantity!: string;
  @Property() released!: string;
  @Property() remaining!: string;
  @Property() returned!: string;
  @Property() status!: EscrowStatus;
  @Property() tradeId!: string;
  @Property() updatedAt!: number;
}

/** Conservation figures for one ISIN: free + locked + escrowed = supply = issued − redeemed. */
@DataType()
export class SupplyBreakdown {
  @Property() escrowed!: string;
  @Property() free!: string;
  @Property() isin!: string;
  @Property() locked!: string;
  @Property() supply!: string;
}

/**
 * Every record that holds units of one ISIN, as stored: the non-zero free balances, and the HTLC
 * locks and escrows in any status. What an auditor's independent conservation check sums itself.
 */
@DataType()
export class Positions {
  @Property('escrows', 'Escrow[]') escrows!: Escrow[];
  @Property('holdings', 'Holding[]') holdings!: Holding[];
  @Property('instrument', 'Instrument') instrument!: Instrument;
  @Property('locks', 'HtlcLock[]') locks!: HtlcLock[];
}

/** One modification of a key, for auditors. */
@DataType()
export class HistoryEntry {
  @Property() isDelete!: boolean;
  @Property() timestamp!: number;
  @Property() txId!: string;
  /** The value written (canonical JSON), empty for deletes. */
  @Property() value!: string;
}

/** One governing MSP's approval of a policy proposal. */
@DataType()
export class PolicyApproval {
  @Property() approvedAt!: number;
  /** Identity account of the admin who approved. */
  @Property() approver!: string;
  @Property() mspId!: string;
}

/** PENDING until every governor approved; ADOPTED in the transaction that put it in force. */
export type ProposalStatus = 'PENDING' | 'ADOPTED';

/** A proposed access policy, waiting for the admins of every governing MSP (see README). */
@DataType()
export class PolicyProposal {
  /** The first approval of each MSP, sorted by MSP id; the proposer's comes with the proposal. */
  @Property('approvals', 'PolicyApproval[]') approvals!: PolicyApproval[];
  @Property() createdAt!: number;
  /** Governors of the policy in force (when this was returned) that have not approved yet. */
  @Property('pending', 'string[]') pending!: string[];
  /** The proposed policy as canonical JSON. */
  @Property() policy!: string;
  /** SHA-256 (hex) of `policy`. */
  @Property() proposalId!: string;
  /** Identity account of the admin who proposed it. */
  @Property() proposer!: string;
  /** PENDING or ADOPTED. */
  @Property() status!: ProposalStatus;
}
