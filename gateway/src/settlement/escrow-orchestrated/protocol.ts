/**
 * The orchestrated escrow's vocabulary, shared by the banks' mode (bank.ts), the escrow manager
 * (manager.ts) and the notary (settlement/notary/): the trade's escrow terms, what each leg's
 * deposit must be, and the bodies of the messages between them. A message body is a flat string
 * map (gateway messaging signs it as it is); every parser refuses a body that is not well formed,
 * so nothing downstream sees a half-read message. README.md gives the protocol.
 */
import type { EscrowDepositRequest, EscrowView, LedgerConnector } from '../../ledger/connector';
import type { LedgerName, LegName, TradeInstruction } from '../../core/trade';
import type { EscrowDecision } from '../../core/escrow';
import { isPreimageOf } from '../htlc/secrets';
import type { MessageStep, ModeSteps } from '../../core/crash-points';
import type { EscrowMessageType } from '../messenger';

/** The matching terms naming the escrow parties (compared like every matching field). */
export const ESCROW_TERMS = { manager: 'escrowManager', notary: 'escrowNotary', observer: 'escrowObserver' } as const;

/** The matching terms an orchestrated instruction adds (none for other modes). */
export function escrowMatchingTerms(i: TradeInstruction): Readonly<Record<string, string>> {
  if (i.mode !== 'escrow_orchestrated' || !i.escrow) return {};
  const { manager, notary, observer } = i.escrow;
  return {
    [ESCROW_TERMS.manager]: manager,
    ...(notary !== undefined && { [ESCROW_TERMS.notary]: notary }),
    ...(observer !== undefined && { [ESCROW_TERMS.observer]: observer }),
  };
}

/** The legs in the order they are shown: the seller deposits the securities, the buyer the cash. */
export const LEGS: readonly LegName[] = ['securities', 'cash'];

/**
 * The mode's steps, for its crash points (core/crash-points.ts), over all its parties: each bank
 * deposits its leg, the manager releases both (or returns them when the trade fails), the notary
 * named in the terms approves each release; every message type of the protocol is sent.
 */
export const ESCROW_ORCHESTRATED_STEPS: ModeSteps = {
  ledger: LEGS.flatMap((leg) => [
    { leg, kind: 'deposit' as const },
    { leg, kind: 'approve' as const },
    { leg, kind: 'release' as const },
    { leg, kind: 'return' as const, onFailure: true },
  ]),
  messages: {
    register: {},
    instructions: {},
    deposited: {},
    approval_request: {},
    approval: {},
    decision: {},
    record: {},
  } satisfies Record<EscrowMessageType, MessageStep>,
};

/** A trade's terms as the escrow needs them. */
export interface EscrowTerms {
  readonly buyer: string;
  readonly seller: string;
  readonly isin: string;
  readonly quantity: bigint;
  /** quantity × price, in the currency's smallest unit. */
  readonly amount: bigint;
  readonly currency: string;
  /** Unix seconds: the trade's settlement deadline, which is the decision deadline. */
  readonly deadline: number;
  readonly manager: string;
  readonly notary?: string;
  readonly observer?: string;
}

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;
const HEX32 = /^0x[0-9a-f]{64}$/;
/** A leg's approval: an EVM signature (0x-hex) or `onledger:<transaction id>`. */
const APPROVAL = /^[0-9A-Za-z:._-]{1,400}$/;
/** An escrow id as either ledger forms it. */
const ESCROW_ID = /^[0-9A-Za-z:._@-]{1,256}$/;
const PARTY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Thrown by the parsers: the body (or terms) is not what the protocol says. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

function field(body: Readonly<Record<string, string>>, key: string, pattern?: RegExp): string {
  const v = body[key];
  if (v === undefined || v === '') throw new ProtocolError(`'${key}' is missing`);
  if (pattern && !pattern.test(v)) throw new ProtocolError(`'${key}' is malformed: ${v.slice(0, 80)}`);
  return v;
}

function optional(body: Readonly<Record<string, string>>, key: string, pattern: RegExp): string | undefined {
  return body[key] === undefined || body[key] === '' ? undefined : field(body, key, pattern);
}

/** The escrow terms of a trade's matching terms; throws {@link ProtocolError}. */
export function escrowTermsOf(terms: Readonly<Record<string, string>>): EscrowTerms {
  if (terms['mode'] !== 'escrow_orchestrated')
    throw new ProtocolError(`mode is ${terms['mode']}, not escrow_orchestrated`);
  const notary = optional(terms, ESCROW_TERMS.notary, PARTY);
  const observer = optional(terms, ESCROW_TERMS.observer, PARTY);
  const parsed: EscrowTerms = {
    buyer: field(terms, 'buyer', PARTY),
    seller: field(terms, 'seller', PARTY),
    isin: field(terms, 'isin'),
    quantity: BigInt(field(terms, 'quantity', DECIMAL)),
    amount: BigInt(field(terms, 'amount', DECIMAL)),
    currency: field(terms, 'currency'),
    deadline: Number(field(terms, 'settlementDeadline', /^[0-9]{1,12}$/)),
    manager: field(terms, ESCROW_TERMS.manager, PARTY),
    ...(notary !== undefined && { notary }),
    ...(observer !== undefined && { observer }),
  };
  const roles = [parsed.buyer, parsed.seller, parsed.manager, parsed.notary, parsed.observer].filter(Boolean);
  if (new Set(roles).size !== roles.length)
    throw new ProtocolError('buyer, seller, manager, notary and observer must differ');
  return parsed;
}

/** Who deposits each leg and who receives it. */
export function legParties(t: EscrowTerms, leg: LegName): { readonly depositor: string; readonly beneficiary: string } {
  return leg === 'securities'
    ? { depositor: t.seller, beneficiary: t.buyer }
    : { depositor: t.buyer, beneficiary: t.seller };
}

/** What the manager and the banks need from the ledgers and the directory. */
export interface EscrowLedgers {
  /** The connector of the ledger holding `leg` (its `ledger` names that ledger). */
  connector(leg: LegName): LedgerConnector;
  /** A party's account on a ledger (directory: `fabricAccount` on Fabric, `evmAddress` on the EVM). */
  accountOf(party: string, ledger: LedgerName): string;
  /** The leg's asset: the ISIN's (chaincode ISIN or stand-in token), the currency's token. */
  assetOf(leg: LegName, t: EscrowTerms): string;
}

/** The manager's instructions to both banks (`instructions` message). */
export interface Instructions {
  readonly termsHash: string;
  /** SHA-256 of the manager's secret, 0x-hex. */
  readonly hashlock: string;
  readonly decisionDeadline: number;
  readonly expiry: number;
}

export function instructionsBody(i: Instructions): Record<string, string> {
  return {
    termsHash: i.termsHash,
    hashlock: i.hashlock,
    decisionDeadline: String(i.decisionDeadline),
    expiry: String(i.expiry),
  };
}

export function parseInstructions(body: Readonly<Record<string, string>>): Instructions {
  return {
    termsHash: field(body, 'termsHash', /^[0-9a-f]{64}$/),
    hashlock: field(body, 'hashlock', HEX32),
    decisionDeadline: Number(field(body, 'decisionDeadline', /^[0-9]{1,12}$/)),
    expiry: Number(field(body, 'expiry', /^[0-9]{1,12}$/)),
  };
}

/** The deposit each leg must be: what the depositor sends and what the manager checks. */
export function expectedDeposit(
  tradeId: string,
  leg: LegName,
  t: EscrowTerms,
  i: Instructions,
  ledgers: EscrowLedgers,
): EscrowDepositRequest {
  const ledger = ledgers.connector(leg).ledger;
  const { beneficiary } = legParties(t, leg);
  return {
    tradeId,
    asset: ledgers.assetOf(leg, t),
    amount: leg === 'securities' ? t.quantity : t.amount,
    beneficiary: ledgers.accountOf(beneficiary, ledger),
    controller: ledgers.accountOf(t.manager, ledger),
    expiry: i.expiry,
    hashlock: i.hashlock,
    ...(t.notary !== undefined && { notary: ledgers.accountOf(t.notary, ledger) }),
  };
}

const same = (a: string | undefined, b: string | undefined): boolean =>
  (a ?? '').toLowerCase().replace(/^0x/, '') === (b ?? '').toLowerCase().replace(/^0x/, '');

/**
 * Why an escrow on the ledger is not the deposit expected (empty: it is). The expiry must be at
 * least the expected one (a later one only gives the beneficiary more time); everything else
 * must be equal, and the escrow must still hold everything.
 */
export function depositProblems(view: EscrowView, expected: EscrowDepositRequest): string[] {
  const problems: string[] = [];
  const check = (name: string, ok: boolean, got: string): void => {
    if (!ok) problems.push(`${name} is ${got}`);
  };
  check('asset', same(view.asset, expected.asset), view.asset);
  check('amount', view.amount === expected.amount, view.amount.toString());
  check('beneficiary', same(view.beneficiary, expected.beneficiary), view.beneficiary);
  check('controller', same(view.controller, expected.controller), view.controller);
  check('hashlock', same(view.hashlock, expected.hashlock), view.hashlock ?? 'none');
  check('notary', same(view.notary, expected.notary), view.notary ?? 'none');
  check('expiry', view.expiry >= expected.expiry, String(view.expiry));
  check('state', view.state === 'held' && view.released === 0n, `${view.state} (${view.released} released)`);
  return problems;
}

/**
 * The key of a trade term in an `approval_request` body: `term` and the field with its first
 * letter upper-cased (`isin` → `termIsin`). A message body's keys are letters and digits only
 * (the peer message schema), so no separator; every term field starts lower-case, and the
 * request's own fields (`termsHash`, `securitiesEscrow`, `cashEscrow`) never have an upper-case
 * letter after `term`.
 */
export function termKey(field: string): string {
  return `term${field.charAt(0).toUpperCase()}${field.slice(1)}`;
}

/** The term field of an `approval_request` body key, or undefined for the request's own fields. */
export function termField(key: string): string | undefined {
  const m = /^term([A-Z])(.*)$/.exec(key);
  return m ? `${(m[1] as string).toLowerCase()}${m[2] as string}` : undefined;
}

/** The notary's signed answer (`approval` message). */
export interface Approval {
  readonly termsHash: string;
  readonly verdict: 'approve' | 'refuse';
  readonly reason?: string;
  /** Per leg: the EVM signature to pass with the release, or `onledger:<txId>` on Fabric. */
  readonly approvals: Partial<Readonly<Record<LegName, string>>>;
}

export function approvalBody(a: Approval): Record<string, string> {
  return {
    termsHash: a.termsHash,
    verdict: a.verdict,
    ...(a.reason !== undefined && { reason: a.reason }),
    ...(a.approvals.securities !== undefined && { securitiesApproval: a.approvals.securities }),
    ...(a.approvals.cash !== undefined && { cashApproval: a.approvals.cash }),
  };
}

export function parseApproval(body: Readonly<Record<string, string>>): Approval {
  const verdict = field(body, 'verdict', /^(approve|refuse)$/) as Approval['verdict'];
  const reason = optional(body, 'reason', /^.{1,500}$/s);
  const securities = optional(body, 'securitiesApproval', APPROVAL);
  const cash = optional(body, 'cashApproval', APPROVAL);
  if (verdict === 'approve' && (securities === undefined || cash === undefined)) {
    throw new ProtocolError('an approval carries the approval of both legs');
  }
  return {
    termsHash: field(body, 'termsHash', /^[0-9a-f]{64}$/),
    verdict,
    ...(reason !== undefined && { reason }),
    approvals: { ...(securities !== undefined && { securities }), ...(cash !== undefined && { cash }) },
  };
}

/** An on-ledger (Fabric) approval needs nothing passed with the release. */
export const ON_LEDGER = 'onledger:';

/** What to pass as `approval` with a release: an EVM signature, or nothing for an on-ledger one. */
export function releaseApproval(approval: string | undefined): string | undefined {
  return approval === undefined || approval.startsWith(ON_LEDGER) ? undefined : approval;
}

/** The manager's decision (`decision` message), sent to both banks and the observer. */
export interface DecisionMessage {
  readonly termsHash: string;
  readonly decision: EscrowDecision;
  readonly reason?: string;
  /**
   * Never sent any more: the banks learn the secret from the manager's first release on a ledger
   * (README, "the commit artifact"). A decision that still carries one must open the hashlock.
   */
  readonly secret?: string;
  /** Commit with a notary: what each leg's release needs. */
  readonly approvals: Partial<Readonly<Record<LegName, string>>>;
  /** The evidence: each deposit the manager verified on its ledger (escrow id), when it saw one. */
  readonly escrows?: Partial<Readonly<Record<LegName, string>>>;
}

export function decisionBody(d: DecisionMessage): Record<string, string> {
  return {
    termsHash: d.termsHash,
    decision: d.decision,
    ...(d.reason !== undefined && { reason: d.reason }),
    ...(d.secret !== undefined && { secret: d.secret }),
    ...(d.approvals.securities !== undefined && { securitiesApproval: d.approvals.securities }),
    ...(d.approvals.cash !== undefined && { cashApproval: d.approvals.cash }),
    ...(d.escrows?.securities !== undefined && { securitiesEscrow: d.escrows.securities }),
    ...(d.escrows?.cash !== undefined && { cashEscrow: d.escrows.cash }),
  };
}

export function parseDecision(body: Readonly<Record<string, string>>): DecisionMessage {
  const decision = field(body, 'decision', /^(commit|abort)$/) as EscrowDecision;
  const secret = optional(body, 'secret', HEX32);
  const reason = optional(body, 'reason', /^.{1,500}$/s);
  const securities = optional(body, 'securitiesApproval', APPROVAL);
  const cash = optional(body, 'cashApproval', APPROVAL);
  const securitiesEscrow = optional(body, 'securitiesEscrow', ESCROW_ID);
  const cashEscrow = optional(body, 'cashEscrow', ESCROW_ID);
  return {
    termsHash: field(body, 'termsHash', /^[0-9a-f]{64}$/),
    decision,
    ...(reason !== undefined && { reason }),
    ...(secret !== undefined && { secret }),
    approvals: { ...(securities !== undefined && { securities }), ...(cash !== undefined && { cash }) },
    escrows: {
      ...(securitiesEscrow !== undefined && { securities: securitiesEscrow }),
      ...(cashEscrow !== undefined && { cash: cashEscrow }),
    },
  };
}

/** True when `secret` opens `hashlock` (both escrows' condition). */
export function opens(secret: string, hashlock: string): boolean {
  return isPreimageOf(secret, hashlock);
}

/**
 * The least time, in seconds, every escrow still held must have left for the first release of a
 * trade to be sent: half of Δ (expiry − decision deadline). The first release makes the secret
 * public, after which each beneficiary must be able to release its leg before the expiry.
 */
export function revealMarginSeconds(i: Instructions): number {
  return Math.floor((i.expiry - i.decisionDeadline) / 2);
}

/**
 * Whether a release of `view` may be sent at `now` (model/escrow-orchestrated.pml): before its
 * expiry, and, for the first release of the trade (no escrow released yet, none sent by this
 * party), only while every escrow still held has more than the reveal margin left. Too late for
 * the first one: nobody learns the secret, and each depositor takes its deposit back at expiry.
 */
export function releaseAllowed(
  now: number,
  view: EscrowView,
  all: readonly (EscrowView | undefined)[],
  i: Instructions,
  sentBefore: boolean,
): boolean {
  if (view.state !== 'held' || now >= view.expiry) return false;
  if (sentBefore || all.some((v) => v?.state === 'released')) return true;
  const margin = revealMarginSeconds(i);
  return all.every((v) => v?.state !== 'held' || now + margin < v.expiry);
}
