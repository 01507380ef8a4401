/**
 * The shared HTLC/escrow scenario table: data, not copy-pasted tests.
 *
 * Every ledger implementation (securities chaincode, EVM cash contracts) runs this same table
 * through its {@link LedgerDriver}, so both provably behave alike. Each scenario is a list of
 * steps; the runner executes them in order and, after every step (including rejected ones),
 * checks conservation: `free + locked + escrowed = supply`, and `supply` never changes.
 *
 * Conventions: `alice` starts with {@link INITIAL} free units and is the sender/depositor; `bob`
 * is the receiver/beneficiary; `manager` is the escrow controller; `notary` approves releases
 * from the escrows that name it; `carol` is a stranger.
 * Expiries are relative (`expiresIn` seconds after the ledger's `now()` at lock/deposit time);
 * `warp` moves ledger time to a lock's expiry plus an offset.
 */
import type { Actor, ScenarioErrorCode } from './driver';

/** Free units `alice` holds at the start of every scenario. */
export const INITIAL = 1000n;

/** Default lock/escrow lifetime in seconds. */
export const DEFAULT_EXPIRES_IN = 3600n;

/** Which preimage a step presents: the right one, a wrong 32-byte one, or a wrong length. */
export type PreimageKind = 'secret' | 'wrong' | 'short' | 'long';

/** One action or check in a scenario. `expect` names the error the ledger must reject with. */
export type Step =
  | {
      readonly do: 'lock';
      readonly as: Actor;
      readonly id: string;
      readonly to: Actor;
      readonly amount: bigint;
      readonly expiresIn?: bigint;
      readonly expect?: ScenarioErrorCode;
    }
  | {
      readonly do: 'claim';
      readonly as: Actor;
      readonly id: string;
      readonly preimage: PreimageKind;
      readonly expect?: ScenarioErrorCode;
    }
  | { readonly do: 'refund'; readonly as: Actor; readonly id: string; readonly expect?: ScenarioErrorCode }
  | {
      readonly do: 'deposit';
      readonly as: Actor;
      readonly id: string;
      readonly to: Actor;
      readonly controller: Actor;
      readonly amount: bigint;
      readonly expiresIn?: bigint;
      readonly hashlocked?: boolean;
      /** The escrow names `notary`, whose approval every release needs. */
      readonly notarized?: boolean;
      /** Label of the trade the deposit is for (default `T`); the ledger derives the id from it. */
      readonly trade?: string;
      readonly expect?: ScenarioErrorCode;
    }
  | {
      readonly do: 'approve';
      readonly as: Actor;
      readonly id: string;
      readonly amount: bigint;
      readonly expect?: ScenarioErrorCode;
    }
  | {
      readonly do: 'release';
      readonly as: Actor;
      readonly id: string;
      readonly amount: bigint;
      readonly preimage?: PreimageKind;
      readonly expect?: ScenarioErrorCode;
    }
  | { readonly do: 'return'; readonly as: Actor; readonly id: string; readonly expect?: ScenarioErrorCode }
  /** Sets ledger time to the expiry of lock/escrow `id` plus `offset` seconds (default 0). */
  | { readonly do: 'warp'; readonly id: string; readonly offset?: bigint }
  /** Free balances that must hold now (actors not listed are not checked). */
  | { readonly do: 'balances'; readonly free: Readonly<Partial<Record<Actor, bigint>>> }
  /** Locked and escrowed totals that must hold now. */
  | { readonly do: 'totals'; readonly locked: bigint; readonly escrowed: bigint };

/** A named scenario: `path` is the describe nesting, `name` the `it` sentence. */
export interface Scenario {
  readonly path: readonly string[];
  readonly name: string;
  readonly steps: readonly Step[];
}

type Code = ScenarioErrorCode;
type LockStep = Extract<Step, { do: 'lock' }>;
type DepositStep = Extract<Step, { do: 'deposit' }>;
const err = (expect?: Code): { expect?: Code } => (expect === undefined ? {} : { expect });

// Step builders: alice locks/deposits for bob, `manager` controls escrows, `carol` is a stranger.
const lock = (amount: bigint, expect?: Code, extra: Partial<LockStep> = {}): LockStep => ({
  do: 'lock',
  as: 'alice',
  id: 'L',
  to: 'bob',
  amount,
  ...err(expect),
  ...extra,
});
const claim = (as: Actor, preimage: PreimageKind, expect?: Code, id = 'L'): Step => ({
  do: 'claim',
  as,
  id,
  preimage,
  ...err(expect),
});
const refund = (as: Actor, expect?: Code): Step => ({ do: 'refund', as, id: 'L', ...err(expect) });
const deposit = (amount: bigint, expect?: Code, extra: Partial<DepositStep> = {}): DepositStep => ({
  do: 'deposit',
  as: 'alice',
  id: 'E',
  to: 'bob',
  controller: 'manager',
  amount,
  ...err(expect),
  ...extra,
});
const release = (as: Actor, amount: bigint, expect?: Code, preimage?: PreimageKind, id = 'E'): Step => ({
  do: 'release',
  as,
  id,
  amount,
  ...err(expect),
  ...(preimage === undefined ? {} : { preimage }),
});
const giveBack = (as: Actor, expect?: Code): Step => ({ do: 'return', as, id: 'E', ...err(expect) });
const approve = (amount: bigint, id = 'E'): Step => ({ do: 'approve', as: 'notary', id, amount });
const NOTARIZED = { notarized: true } as const;
const warp = (id: 'L' | 'E' | 'E2', offset?: bigint): Step => ({
  do: 'warp',
  id,
  ...(offset === undefined ? {} : { offset }),
});
const free = (balances: Partial<Record<Actor, bigint>>): Step => ({ do: 'balances', free: balances });
const held = (locked: bigint, escrowed: bigint): Step => ({ do: 'totals', locked, escrowed });

const row = (path: readonly string[], name: string, ...steps: Step[]): Scenario => ({ path, name, steps });
const LOCK = ['HTLC', 'lock'];
const CLAIM = ['HTLC', 'claim'];
const REFUND = ['HTLC', 'refund'];
const DEPOSIT = ['escrow', 'deposit'];
const RELEASE = ['escrow', 'release'];
const RETURN = ['escrow', 'return'];
const NOTARY = ['escrow', 'notary'];

/** The table. Add a row here and every ledger runs it. */
// One scenario per row, so it reads as a table (hence no prettier formatting).
// prettier-ignore
export const SCENARIOS: readonly Scenario[] = [
  row(LOCK, 'moves the amount from the sender’s free balance into the lock',
    lock(300n), free({ alice: 700n, bob: 0n }), held(300n, 0n)),
  row(LOCK, 'accepts a lock of the whole free balance', lock(INITIAL), free({ alice: 0n }), held(INITIAL, 0n)),
  row(LOCK, 'rejects a zero amount with INVALID_ARGUMENT', lock(0n, 'INVALID_ARGUMENT'), free({ alice: INITIAL })),
  row(LOCK, 'rejects more than the free balance with INSUFFICIENT_BALANCE',
    lock(INITIAL + 1n, 'INSUFFICIENT_BALANCE'), free({ alice: INITIAL }), held(0n, 0n)),
  row(LOCK, 'rejects an expiry that is not in the future with INVALID_ARGUMENT',
    lock(100n, 'INVALID_ARGUMENT', { expiresIn: 0n }), free({ alice: INITIAL }), held(0n, 0n)),

  row(CLAIM, 'pays the receiver when the right preimage is presented before expiry',
    lock(100n), claim('bob', 'secret'), free({ alice: 900n, bob: 100n }), held(0n, 0n)),
  row(CLAIM, 'pays the receiver one second before expiry',
    lock(100n), warp('L', -1n), claim('bob', 'secret'), free({ bob: 100n })),
  row(CLAIM, 'pays the fixed receiver, not the stranger who submits the claim',
    lock(100n), claim('carol', 'secret'), free({ alice: 900n, bob: 100n, carol: 0n }), held(0n, 0n)),
  row(CLAIM, 'rejects a wrong preimage with BAD_PREIMAGE and keeps the funds locked',
    lock(100n), claim('bob', 'wrong', 'BAD_PREIMAGE'), free({ alice: 900n, bob: 0n }), held(100n, 0n)),
  row(CLAIM, 'rejects a preimage shorter than 32 bytes with INVALID_ARGUMENT',
    lock(100n), claim('bob', 'short', 'INVALID_ARGUMENT')),
  row(CLAIM, 'rejects a preimage longer than 32 bytes with INVALID_ARGUMENT',
    lock(100n), claim('bob', 'long', 'INVALID_ARGUMENT')),
  row(CLAIM, 'rejects a claim at exactly the expiry with LOCK_EXPIRED',
    lock(100n), warp('L'), claim('bob', 'secret', 'LOCK_EXPIRED'), held(100n, 0n)),
  row(CLAIM, 'reports LOCK_EXPIRED, not BAD_PREIMAGE, for a wrong preimage at the expiry',
    lock(100n), warp('L'), claim('bob', 'wrong', 'LOCK_EXPIRED'), held(100n, 0n)),
  row(CLAIM, 'rejects a second claim with ALREADY_SETTLED',
    lock(100n), claim('bob', 'secret'), claim('bob', 'secret', 'ALREADY_SETTLED'),
    free({ alice: 900n, bob: 100n })),
  row(CLAIM, 'rejects a claim after a refund with ALREADY_SETTLED',
    lock(100n), warp('L'), refund('alice'), claim('bob', 'secret', 'ALREADY_SETTLED'),
    free({ alice: INITIAL, bob: 0n })),
  row(CLAIM, 'rejects an unknown lock with NOT_FOUND', claim('bob', 'secret', 'NOT_FOUND', 'missing')),
  row(CLAIM, 'checks the preimage length before the lock: INVALID_ARGUMENT for a settled or unknown lock too',
    lock(100n), claim('bob', 'secret'), claim('bob', 'short', 'INVALID_ARGUMENT'),
    claim('bob', 'long', 'INVALID_ARGUMENT', 'missing'), free({ bob: 100n })),

  row(REFUND, 'rejects a refund before expiry with LOCK_NOT_EXPIRED',
    lock(100n), refund('alice', 'LOCK_NOT_EXPIRED'), held(100n, 0n)),
  row(REFUND, 'rejects a refund one second before expiry with LOCK_NOT_EXPIRED',
    lock(100n), warp('L', -1n), refund('alice', 'LOCK_NOT_EXPIRED'), free({ alice: 900n }), held(100n, 0n)),
  row(REFUND, 'returns the funds to the sender at exactly the expiry',
    lock(100n), warp('L'), refund('alice'), free({ alice: INITIAL, bob: 0n }), held(0n, 0n)),
  row(REFUND, 'returns the funds to the fixed sender when a stranger submits the refund',
    lock(100n), warp('L', 1n), refund('carol'), free({ alice: INITIAL, bob: 0n, carol: 0n }), held(0n, 0n)),
  row(REFUND, 'rejects a refund after a claim with ALREADY_SETTLED',
    lock(100n), claim('bob', 'secret'), warp('L'), refund('alice', 'ALREADY_SETTLED'),
    free({ alice: 900n, bob: 100n })),
  row(REFUND, 'rejects a second refund with ALREADY_SETTLED',
    lock(100n), warp('L'), refund('alice'), refund('alice', 'ALREADY_SETTLED'), free({ alice: INITIAL })),

  row(DEPOSIT, 'moves the amount from the depositor’s free balance into escrow',
    deposit(400n), free({ alice: 600n, bob: 0n }), held(0n, 400n)),
  row(DEPOSIT, 'rejects more than the free balance with INSUFFICIENT_BALANCE',
    deposit(INITIAL + 1n, 'INSUFFICIENT_BALANCE'), held(0n, 0n)),
  row(DEPOSIT, 'rejects a zero amount with INVALID_ARGUMENT', deposit(0n, 'INVALID_ARGUMENT')),
  row(DEPOSIT, 'rejects an expiry that is not in the future with INVALID_ARGUMENT',
    deposit(100n, 'INVALID_ARGUMENT', { expiresIn: 0n }), free({ alice: INITIAL }), held(0n, 0n)),
  row(DEPOSIT, 'rejects a second deposit by the same depositor for the same trade with ALREADY_EXISTS',
    deposit(100n), deposit(100n, 'ALREADY_EXISTS'), held(0n, 100n)),
  row(DEPOSIT, 'opens a new escrow for the same depositor and another trade',
    deposit(100n), deposit(200n, undefined, { id: 'E2', trade: 'T2' }), free({ alice: 700n }), held(0n, 300n),
    release('manager', 200n, undefined, undefined, 'E2'), free({ bob: 200n }), held(0n, 100n)),
  row(DEPOSIT, 'gives each depositor its own escrow for one trade: nobody can take another’s id first',
    deposit(400n), release('manager', 400n),
    deposit(100n, undefined, { as: 'bob', to: 'alice', id: 'B', trade: 'T2' }),
    deposit(100n, undefined, { id: 'A', trade: 'T2' }), free({ alice: 500n, bob: 300n }), held(0n, 200n),
    release('manager', 100n, undefined, undefined, 'B'), free({ alice: 600n, bob: 300n }), held(0n, 100n)),

  row(RELEASE, 'releases part to the beneficiary and then returns the rest to the depositor',
    deposit(400n), release('manager', 150n), free({ alice: 600n, bob: 150n }), held(0n, 250n),
    giveBack('manager'), free({ alice: 850n, bob: 150n }), held(0n, 0n)),
  row(RELEASE, 'releases the whole deposit in two partial releases and then reports ALREADY_SETTLED',
    deposit(400n), release('manager', 100n), release('manager', 300n), free({ alice: 600n, bob: 400n }),
    release('manager', 1n, 'ALREADY_SETTLED'), giveBack('manager', 'ALREADY_SETTLED')),
  row(RELEASE, 'rejects a release by a stranger with NOT_AUTHORIZED',
    deposit(400n), release('carol', 100n, 'NOT_AUTHORIZED'), release('bob', 100n, 'NOT_AUTHORIZED'), held(0n, 400n)),
  row(RELEASE, 'rejects a release beyond the deposited amount with EXCEEDS_ESCROW',
    deposit(400n), release('manager', 401n, 'EXCEEDS_ESCROW'), release('manager', 300n),
    release('manager', 101n, 'EXCEEDS_ESCROW'), held(0n, 100n)),
  row(RELEASE, 'rejects a zero release with INVALID_ARGUMENT',
    deposit(400n), release('manager', 0n, 'INVALID_ARGUMENT')),
  row(RELEASE, 'rejects a release at exactly the expiry with LOCK_EXPIRED',
    deposit(400n), warp('E'), release('manager', 100n, 'LOCK_EXPIRED'), held(0n, 400n)),
  row(RELEASE, 'lets anyone presenting the preimage release a hash-conditioned deposit',
    deposit(400n, undefined, { hashlocked: true }), release('carol', 400n, undefined, 'secret'),
    free({ alice: 600n, bob: 400n, carol: 0n })),
  row(RELEASE, 'rejects a wrong preimage on a hash-conditioned deposit with BAD_PREIMAGE',
    deposit(400n, undefined, { hashlocked: true }), release('carol', 400n, 'BAD_PREIMAGE', 'wrong'), held(0n, 400n)),
  row(RELEASE, 'rejects a preimage of the wrong length on a hash-conditioned deposit with INVALID_ARGUMENT',
    deposit(400n, undefined, { hashlocked: true }), release('carol', 400n, 'INVALID_ARGUMENT', 'short'),
    release('carol', 400n, 'INVALID_ARGUMENT', 'long'), held(0n, 400n)),
  row(RELEASE, 'rejects a release by preimage at exactly the expiry with LOCK_EXPIRED',
    deposit(400n, undefined, { hashlocked: true }), warp('E'), release('carol', 400n, 'LOCK_EXPIRED', 'secret'),
    held(0n, 400n)),
  row(RELEASE, 'reports LOCK_EXPIRED, not BAD_PREIMAGE, for a wrong preimage at the expiry',
    deposit(400n, undefined, { hashlocked: true }), warp('E'), release('carol', 400n, 'LOCK_EXPIRED', 'wrong'),
    held(0n, 400n)),
  row(RELEASE, 'rejects a stranger’s preimage on a deposit without hash condition with NOT_AUTHORIZED',
    deposit(400n), release('carol', 400n, 'NOT_AUTHORIZED', 'secret'), held(0n, 400n)),
  row(RELEASE, 'releases part by preimage and leaves the rest for the controller to release',
    deposit(400n, undefined, { hashlocked: true }), release('carol', 100n, undefined, 'secret'),
    held(0n, 300n), release('manager', 300n), free({ alice: 600n, bob: 400n, carol: 0n }), held(0n, 0n)),
  row(RELEASE, 'rejects an unknown escrow with NOT_FOUND', release('manager', 1n, 'NOT_FOUND', undefined, 'missing')),

  row(NOTARY, 'refuses a release without the notary’s approval with NOT_APPROVED',
    deposit(400n, undefined, NOTARIZED), release('manager', 400n, 'NOT_APPROVED'), held(0n, 400n)),
  row(NOTARY, 'releases what the notary approved',
    deposit(400n, undefined, NOTARIZED), approve(400n), release('manager', 400n), free({ alice: 600n, bob: 400n }),
    held(0n, 0n)),
  row(NOTARY, 'refuses another amount than the approved one with NOT_APPROVED, then releases the approved one',
    deposit(400n, undefined, NOTARIZED), approve(100n), release('manager', 150n, 'NOT_APPROVED'),
    release('manager', 100n), free({ bob: 100n }), held(0n, 300n)),
  row(NOTARY, 'uses an approval once: a second release needs a second approval',
    deposit(400n, undefined, NOTARIZED), approve(100n), release('manager', 100n), release('manager', 100n, 'NOT_APPROVED'),
    approve(100n), release('manager', 100n), free({ bob: 200n }), held(0n, 200n)),
  row(NOTARY, 'needs the approval on the preimage path too',
    deposit(400n, undefined, { ...NOTARIZED, hashlocked: true }), release('carol', 400n, 'NOT_APPROVED', 'secret'),
    approve(400n), release('carol', 400n, undefined, 'secret'), free({ bob: 400n, carol: 0n }), held(0n, 0n)),
  row(NOTARY, 'checks who releases before the approval: NOT_AUTHORIZED for a stranger',
    deposit(400n, undefined, NOTARIZED), approve(400n), release('carol', 400n, 'NOT_AUTHORIZED'), held(0n, 400n)),
  row(NOTARY, 'lets the controller return, and the depositor reclaim at the expiry, without approval',
    deposit(400n, undefined, NOTARIZED), deposit(100n, undefined, { ...NOTARIZED, id: 'E2', trade: 'T2' }),
    giveBack('manager'), warp('E2'), { do: 'return', as: 'alice', id: 'E2' }, free({ alice: INITIAL }), held(0n, 0n)),

  row(RETURN, 'rejects a return by the depositor before expiry with LOCK_NOT_EXPIRED',
    deposit(400n), giveBack('alice', 'LOCK_NOT_EXPIRED'), held(0n, 400n)),
  row(RETURN, 'lets the depositor take the deposit back at exactly the expiry',
    deposit(400n), warp('E'), giveBack('alice'), free({ alice: INITIAL, bob: 0n }), held(0n, 0n)),
  row(RETURN, 'lets the depositor take back the rest of a partially released deposit at the expiry',
    deposit(400n), release('manager', 150n), warp('E'), giveBack('alice'), free({ alice: 850n, bob: 150n }),
    held(0n, 0n), release('manager', 1n, 'ALREADY_SETTLED')),
  row(RETURN, 'lets the controller return the deposit before expiry',
    deposit(400n), giveBack('manager'), free({ alice: INITIAL, bob: 0n }), release('manager', 1n, 'ALREADY_SETTLED')),
  row(RETURN, 'rejects a return by a stranger or the beneficiary with NOT_AUTHORIZED, also after expiry',
    deposit(400n), giveBack('carol', 'NOT_AUTHORIZED'), giveBack('bob', 'NOT_AUTHORIZED'), warp('E'),
    giveBack('carol', 'NOT_AUTHORIZED'), giveBack('bob', 'NOT_AUTHORIZED'), held(0n, 400n)),
];
