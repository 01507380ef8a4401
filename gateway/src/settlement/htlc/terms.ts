/**
 * HTLC terms (DESIGN.md 3.1) as pure functions: who leads, which leg each party locks, the
 * timelock rule T_L ≥ T_F + Δ, and the check of a counterparty's lock as read from its ledger.
 */
import type { LockView } from '../../ledger/connector';
import type { LedgerName, LegName, Trade } from '../../core/trade';
import { DvpError } from '../../core/errors';
import { isHex32 } from './secrets';

/** A side of a trade. */
export type TradeSide = 'buyer' | 'seller';

/** The leader holds the secret and locks first (longer timelock); the follower locks second. */
export type HtlcRole = 'leader' | 'follower';

/** Timelock durations in seconds, counted from when each lock is made. */
export interface HtlcTimelocks {
  /** T_L: the leader's lock. */
  readonly leaderSeconds: number;
  /** T_F: the follower's lock. */
  readonly followerSeconds: number;
  /** Δ: observing the reveal, submitting, finality on the leader's ledger, clock skew. */
  readonly deltaSeconds: number;
}

/** Where each leg lives and who is who on each ledger (from the directory and configuration). */
export interface HtlcConfig {
  /** Which side holds the secret; both gateways of a trade must agree. */
  readonly leader: TradeSide;
  readonly timelocks: HtlcTimelocks;
  /** The party's identity on `ledger` (EVM address, Fabric identity). */
  readonly addressOf: (party: string, ledger: LedgerName) => string;
  /** The asset id of an ISIN on the securities ledger, of a currency on the cash ledger. */
  readonly assets: {
    readonly securities: (isin: string) => string;
    readonly cash: (currency: string) => string;
  };
}

/** One leg of a trade (`name`): an asset moving from `sender` to `receiver` on `ledger`. */
export interface Leg {
  readonly name: LegName;
  readonly ledger: LedgerName;
  readonly asset: string;
  readonly amount: bigint;
  readonly sender: string;
  readonly receiver: string;
}

/** This gateway's part in one trade. */
export interface HtlcPlan {
  readonly role: HtlcRole;
  readonly counterparty: string;
  /** The leg this gateway locks. */
  readonly mine: Leg;
  /** The leg the counterparty locks (and this gateway claims). */
  readonly theirs: Leg;
}

/** Reason codes of a failed HTLC trade (the trade's `reason`). */
export type HtlcFailure =
  'timeout' | 'lock_mismatch' | 'timelock_too_short' | 'lock_failed' | 'claim_window_missed' | 'follower_missed_claim';

/** Invalid HTLC configuration (thrown at start-up). */
export class HtlcConfigError extends DvpError<'HTLC_CONFIG_INVALID'> {
  constructor(
    message: string,
    override readonly context: Readonly<Record<string, string>> = {},
  ) {
    super('HTLC_CONFIG_INVALID', message, context);
  }
}

/** Throws {@link HtlcConfigError} unless the durations are positive integers and T_L ≥ T_F + Δ. */
export function assertTimelocks(t: HtlcTimelocks): void {
  const context = {
    leaderSeconds: String(t.leaderSeconds),
    followerSeconds: String(t.followerSeconds),
    deltaSeconds: String(t.deltaSeconds),
  };
  const whole = [t.leaderSeconds, t.followerSeconds, t.deltaSeconds].every((v) => Number.isSafeInteger(v) && v >= 0);
  if (!whole || t.followerSeconds === 0) {
    throw new HtlcConfigError('HTLC timelocks must be whole seconds, T_F > 0 and Δ ≥ 0', context);
  }
  if (t.leaderSeconds < t.followerSeconds + t.deltaSeconds) {
    throw new HtlcConfigError(
      `T_L (${t.leaderSeconds} s) must be at least T_F (${t.followerSeconds} s) + Δ (${t.deltaSeconds} s)`,
      context,
    );
  }
}

/**
 * The securities leg (seller → buyer) and the cash leg (buyer → seller, quantity × price), each on
 * the ledger `ledgerOf` names: the ledger of the connector that serves the leg.
 */
function legsOf(
  config: HtlcConfig,
  trade: Trade,
  ledgerOf: (leg: LegName) => LedgerName,
): Readonly<Record<TradeSide, Leg>> {
  const { instruction: ins, owner } = trade;
  const buyer = ins.side === 'buy' ? owner : ins.counterparty;
  const seller = ins.side === 'buy' ? ins.counterparty : owner;
  const at = config.addressOf;
  const securities = ledgerOf('securities');
  const cash = ledgerOf('cash');
  return {
    seller: {
      name: 'securities',
      ledger: securities,
      asset: config.assets.securities(ins.isin),
      amount: ins.quantity,
      sender: at(seller, securities),
      receiver: at(buyer, securities),
    },
    buyer: {
      name: 'cash',
      ledger: cash,
      asset: config.assets.cash(ins.currency),
      amount: ins.quantity * ins.price,
      sender: at(buyer, cash),
      receiver: at(seller, cash),
    },
  };
}

/**
 * This gateway's role and legs in `trade` (owned by this gateway's party); `ledgerOf` names the
 * ledger each leg runs on (the mode passes its connectors' `ledger`, so the timeline records the
 * ledger that really ran the step).
 */
export function planOf(config: HtlcConfig, trade: Trade, ledgerOf: (leg: LegName) => LedgerName): HtlcPlan {
  const side: TradeSide = trade.instruction.side === 'buy' ? 'buyer' : 'seller';
  const other: TradeSide = side === 'buyer' ? 'seller' : 'buyer';
  const legs = legsOf(config, trade, ledgerOf);
  return {
    role: side === config.leader ? 'leader' : 'follower',
    counterparty: trade.instruction.counterparty,
    mine: legs[side],
    theirs: legs[other],
  };
}

/**
 * A ledger identifier in the form it is compared in: a hex string (a hash, an EVM address or lock
 * id, with or without `0x`, any case) as lower-case hex without `0x`; anything else (a Fabric
 * account `<mspId>:/OU=…/CN=…`, a Fabric lock id) exactly as it is, since the chaincode tells
 * `…/CN=Bob` from `…/CN=bob`: a lock to a case variant of the receiver's account pays an account
 * nobody holds and must not pass for the receiver's.
 */
export function normHex(value: string): string {
  return /^(0x)?[0-9a-fA-F]*$/.test(value) ? value.toLowerCase().replace(/^0x/, '') : value;
}

/** Lock ids as the chaincode's `requireId` accepts them (callers choose them, e.g. `htlc:<owner>:<trade>`). */
const FABRIC_LOCK_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * True when a counterparty's lock notice is well-formed for the ledger its lock is on: a 32-byte hex
 * hashlock, and a lock id that ledger can hold (EVM: 32 bytes of hex; Fabric: 1–128 characters of
 * `[A-Za-z0-9._:-]`). A notice is a hint, but a malformed one must not reach a ledger read.
 */
export function isWellFormedNotice(ledger: LedgerName, lockId: string, hashlock: string): boolean {
  return isHex32(hashlock) && (ledger === 'evm' ? isHex32(lockId) : FABRIC_LOCK_ID.test(lockId));
}

/** What a counterparty's lock must be; expiry bounds are inclusive. */
export interface ExpectedLock {
  readonly leg: Leg;
  readonly hashlock: string;
  readonly minExpiry?: number;
  readonly maxExpiry?: number;
}

/** Result of {@link verifyLock}. */
export type LockCheck =
  | { readonly ok: true; readonly lock: LockView }
  | {
      readonly ok: false;
      readonly reason: 'lock_mismatch' | 'timelock_too_short';
      readonly field: string;
      readonly expected: string;
      readonly actual: string;
    };

/**
 * Checks a lock as read from its ledger against what the trade requires. Hex addresses and
 * hashes compare case-insensitively (EVM checksums, optional `0x`); Fabric accounts exactly
 * ({@link normHex}).
 */
export function verifyLock(view: LockView, expected: ExpectedLock): LockCheck {
  const { leg } = expected;
  const fields: readonly (readonly [string, string, string])[] = [
    ['state', 'locked', view.state],
    ['sender', normHex(leg.sender), normHex(view.sender)],
    ['receiver', normHex(leg.receiver), normHex(view.receiver)],
    ['asset', normHex(leg.asset), normHex(view.asset)],
    ['amount', leg.amount.toString(), view.amount.toString()],
    ['hashlock', normHex(expected.hashlock), normHex(view.hashlock)],
  ];
  for (const [field, want, got] of fields) {
    if (want !== got) return { ok: false, reason: 'lock_mismatch', field, expected: want, actual: got };
  }
  const actual = String(view.expiry);
  if (expected.minExpiry !== undefined && view.expiry < expected.minExpiry) {
    return { ok: false, reason: 'timelock_too_short', field: 'expiry', expected: `>= ${expected.minExpiry}`, actual };
  }
  if (expected.maxExpiry !== undefined && view.expiry > expected.maxExpiry) {
    return { ok: false, reason: 'lock_mismatch', field: 'expiry', expected: `<= ${expected.maxExpiry}`, actual };
  }
  return { ok: true, lock: view };
}
