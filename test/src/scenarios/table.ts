/**
 * The shared HTLC/escrow scenario table: data, not copy-pasted tests.
 *
 * Every ledger implementation (securities chaincode, EVM cash contracts) runs this same table
 * through its {@link LedgerDriver}, so both provably behave alike. Each scenario is a list of
 * steps; the runner executes them in order and, after every step (including rejected ones),
 * checks conservation: `free + locked + escrowed = supply`, and `supply` never changes.
 *
 * Conventions: `alice` starts with {@link INITIAL} free units and is the sender/depositor; `bob`
 * is the receiver/beneficiary; `manager` is the escrow controller; `carol` is a stranger.
 * Expiries are relative (`expiresIn` seconds after the ledger's `now()` at lock/deposit time);
 * `warp` moves ledger time to a lock's expiry plus an offset.
 */
import { createHash } from 'node:crypto';

import { afterAll, describe, expect, it } from '@jest/globals';

import { ScenarioError } from './driver';
import type { Actor, LedgerDriver, ScenarioErrorCode } from './driver';

/** Free units `alice` holds at the start of every scenario. */
export const INITIAL = 1000n;

/** Default lock/escrow lifetime in seconds. */
const DEFAULT_EXPIRES_IN = 3600n;

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

const lockAB = (amount: bigint, extra: Partial<Extract<Step, { do: 'lock' }>> = {}): Step => ({
  do: 'lock',
  as: 'alice',
  id: 'L',
  to: 'bob',
  amount,
  ...extra,
});

const depositAB = (amount: bigint, extra: Partial<Extract<Step, { do: 'deposit' }>> = {}): Step => ({
  do: 'deposit',
  as: 'alice',
  id: 'E',
  to: 'bob',
  controller: 'manager',
  amount,
  ...extra,
});

/** The table. Add a row here and every ledger runs it. */
export const SCENARIOS: readonly Scenario[] = [
  // ---- HTLC: lock ----
  {
    path: ['HTLC', 'lock'],
    name: 'moves the amount from the sender’s free balance into the lock',
    steps: [
      lockAB(300n),
      { do: 'balances', free: { alice: 700n, bob: 0n } },
      { do: 'totals', locked: 300n, escrowed: 0n },
    ],
  },
  {
    path: ['HTLC', 'lock'],
    name: 'accepts a lock of the whole free balance',
    steps: [lockAB(INITIAL), { do: 'balances', free: { alice: 0n } }, { do: 'totals', locked: INITIAL, escrowed: 0n }],
  },
  {
    path: ['HTLC', 'lock'],
    name: 'rejects a zero amount with INVALID_ARGUMENT',
    steps: [lockAB(0n, { expect: 'INVALID_ARGUMENT' }), { do: 'balances', free: { alice: INITIAL } }],
  },
  {
    path: ['HTLC', 'lock'],
    name: 'rejects more than the free balance with INSUFFICIENT_BALANCE',
    steps: [
      lockAB(INITIAL + 1n, { expect: 'INSUFFICIENT_BALANCE' }),
      { do: 'balances', free: { alice: INITIAL } },
      { do: 'totals', locked: 0n, escrowed: 0n },
    ],
  },
  // ---- HTLC: claim ----
  {
    path: ['HTLC', 'claim'],
    name: 'pays the receiver when the right preimage is presented before expiry',
    steps: [
      lockAB(100n),
      { do: 'claim', as: 'bob', id: 'L', preimage: 'secret' },
      { do: 'balances', free: { alice: 900n, bob: 100n } },
      { do: 'totals', locked: 0n, escrowed: 0n },
    ],
  },
  {
    path: ['HTLC', 'claim'],
    name: 'pays the receiver one second before expiry',
    steps: [
      lockAB(100n),
      { do: 'warp', id: 'L', offset: -1n },
      { do: 'claim', as: 'bob', id: 'L', preimage: 'secret' },
      { do: 'balances', free: { bob: 100n } },
    ],
  },
  {
    path: ['HTLC', 'claim'],
    name: 'rejects a wrong preimage with BAD_PREIMAGE and keeps the funds locked',
    steps: [
      lockAB(100n),
      { do: 'claim', as: 'bob', id: 'L', preimage: 'wrong', expect: 'BAD_PREIMAGE' },
      { do: 'balances', free: { alice: 900n, bob: 0n } },
      { do: 'totals', locked: 100n, escrowed: 0n },
    ],
  },
  {
    path: ['HTLC', 'claim'],
    name: 'rejects a preimage shorter than 32 bytes with INVALID_ARGUMENT',
    steps: [lockAB(100n), { do: 'claim', as: 'bob', id: 'L', preimage: 'short', expect: 'INVALID_ARGUMENT' }],
  },
  {
    path: ['HTLC', 'claim'],
    name: 'rejects a preimage longer than 32 bytes with INVALID_ARGUMENT',
    steps: [lockAB(100n), { do: 'claim', as: 'bob', id: 'L', preimage: 'long', expect: 'INVALID_ARGUMENT' }],
  },
  {
    path: ['HTLC', 'claim'],
    name: 'rejects a claim at exactly the expiry with LOCK_EXPIRED',
    steps: [
      lockAB(100n),
      { do: 'warp', id: 'L' },
      { do: 'claim', as: 'bob', id: 'L', preimage: 'secret', expect: 'LOCK_EXPIRED' },
      { do: 'totals', locked: 100n, escrowed: 0n },
    ],
  },
  {
    path: ['HTLC', 'claim'],
    name: 'rejects a second claim with ALREADY_SETTLED',
    steps: [
      lockAB(100n),
      { do: 'claim', as: 'bob', id: 'L', preimage: 'secret' },
      { do: 'claim', as: 'bob', id: 'L', preimage: 'secret', expect: 'ALREADY_SETTLED' },
      { do: 'balances', free: { alice: 900n, bob: 100n } },
    ],
  },
  {
    path: ['HTLC', 'claim'],
    name: 'rejects a claim after a refund with ALREADY_SETTLED',
    steps: [
      lockAB(100n),
      { do: 'warp', id: 'L' },
      { do: 'refund', as: 'alice', id: 'L' },
      { do: 'claim', as: 'bob', id: 'L', preimage: 'secret', expect: 'ALREADY_SETTLED' },
      { do: 'balances', free: { alice: INITIAL, bob: 0n } },
    ],
  },
  {
    path: ['HTLC', 'claim'],
    name: 'rejects an unknown lock with NOT_FOUND',
    steps: [{ do: 'claim', as: 'bob', id: 'missing', preimage: 'secret', expect: 'NOT_FOUND' }],
  },
  // ---- HTLC: refund ----
  {
    path: ['HTLC', 'refund'],
    name: 'rejects a refund before expiry with LOCK_NOT_EXPIRED',
    steps: [
      lockAB(100n),
      { do: 'refund', as: 'alice', id: 'L', expect: 'LOCK_NOT_EXPIRED' },
      { do: 'totals', locked: 100n, escrowed: 0n },
    ],
  },
  {
    path: ['HTLC', 'refund'],
    name: 'returns the funds to the sender at exactly the expiry',
    steps: [
      lockAB(100n),
      { do: 'warp', id: 'L' },
      { do: 'refund', as: 'alice', id: 'L' },
      { do: 'balances', free: { alice: INITIAL, bob: 0n } },
      { do: 'totals', locked: 0n, escrowed: 0n },
    ],
  },
  {
    path: ['HTLC', 'refund'],
    name: 'rejects a refund after a claim with ALREADY_SETTLED',
    steps: [
      lockAB(100n),
      { do: 'claim', as: 'bob', id: 'L', preimage: 'secret' },
      { do: 'warp', id: 'L' },
      { do: 'refund', as: 'alice', id: 'L', expect: 'ALREADY_SETTLED' },
      { do: 'balances', free: { alice: 900n, bob: 100n } },
    ],
  },
  {
    path: ['HTLC', 'refund'],
    name: 'rejects a second refund with ALREADY_SETTLED',
    steps: [
      lockAB(100n),
      { do: 'warp', id: 'L' },
      { do: 'refund', as: 'alice', id: 'L' },
      { do: 'refund', as: 'alice', id: 'L', expect: 'ALREADY_SETTLED' },
      { do: 'balances', free: { alice: INITIAL } },
    ],
  },
  // ---- Escrow: deposit ----
  {
    path: ['escrow', 'deposit'],
    name: 'moves the amount from the depositor’s free balance into escrow',
    steps: [
      depositAB(400n),
      { do: 'balances', free: { alice: 600n, bob: 0n } },
      { do: 'totals', locked: 0n, escrowed: 400n },
    ],
  },
  {
    path: ['escrow', 'deposit'],
    name: 'rejects more than the free balance with INSUFFICIENT_BALANCE',
    steps: [depositAB(INITIAL + 1n, { expect: 'INSUFFICIENT_BALANCE' }), { do: 'totals', locked: 0n, escrowed: 0n }],
  },
  {
    path: ['escrow', 'deposit'],
    name: 'rejects a zero amount with INVALID_ARGUMENT',
    steps: [depositAB(0n, { expect: 'INVALID_ARGUMENT' })],
  },
  {
    path: ['escrow', 'deposit'],
    name: 'rejects a reused escrow id with ALREADY_EXISTS',
    steps: [
      depositAB(100n),
      depositAB(100n, { expect: 'ALREADY_EXISTS' }),
      { do: 'totals', locked: 0n, escrowed: 100n },
    ],
  },
  // ---- Escrow: release ----
  {
    path: ['escrow', 'release'],
    name: 'releases part to the beneficiary and then returns the rest to the depositor',
    steps: [
      depositAB(400n),
      { do: 'release', as: 'manager', id: 'E', amount: 150n },
      { do: 'balances', free: { alice: 600n, bob: 150n } },
      { do: 'totals', locked: 0n, escrowed: 250n },
      { do: 'return', as: 'manager', id: 'E' },
      { do: 'balances', free: { alice: 850n, bob: 150n } },
      { do: 'totals', locked: 0n, escrowed: 0n },
    ],
  },
  {
    path: ['escrow', 'release'],
    name: 'releases the whole deposit in two partial releases and then reports ALREADY_SETTLED',
    steps: [
      depositAB(400n),
      { do: 'release', as: 'manager', id: 'E', amount: 100n },
      { do: 'release', as: 'manager', id: 'E', amount: 300n },
      { do: 'balances', free: { alice: 600n, bob: 400n } },
      { do: 'release', as: 'manager', id: 'E', amount: 1n, expect: 'ALREADY_SETTLED' },
      { do: 'return', as: 'manager', id: 'E', expect: 'ALREADY_SETTLED' },
    ],
  },
  {
    path: ['escrow', 'release'],
    name: 'rejects a release by a stranger with NOT_AUTHORIZED',
    steps: [
      depositAB(400n),
      { do: 'release', as: 'carol', id: 'E', amount: 100n, expect: 'NOT_AUTHORIZED' },
      { do: 'release', as: 'bob', id: 'E', amount: 100n, expect: 'NOT_AUTHORIZED' },
      { do: 'totals', locked: 0n, escrowed: 400n },
    ],
  },
  {
    path: ['escrow', 'release'],
    name: 'rejects a release beyond the deposited amount with EXCEEDS_ESCROW',
    steps: [
      depositAB(400n),
      { do: 'release', as: 'manager', id: 'E', amount: 401n, expect: 'EXCEEDS_ESCROW' },
      { do: 'release', as: 'manager', id: 'E', amount: 300n },
      { do: 'release', as: 'manager', id: 'E', amount: 101n, expect: 'EXCEEDS_ESCROW' },
      { do: 'totals', locked: 0n, escrowed: 100n },
    ],
  },
  {
    path: ['escrow', 'release'],
    name: 'rejects a zero release with INVALID_ARGUMENT',
    steps: [depositAB(400n), { do: 'release', as: 'manager', id: 'E', amount: 0n, expect: 'INVALID_ARGUMENT' }],
  },
  {
    path: ['escrow', 'release'],
    name: 'rejects a release at exactly the expiry with LOCK_EXPIRED',
    steps: [
      depositAB(400n),
      { do: 'warp', id: 'E' },
      { do: 'release', as: 'manager', id: 'E', amount: 100n, expect: 'LOCK_EXPIRED' },
      { do: 'totals', locked: 0n, escrowed: 400n },
    ],
  },
  {
    path: ['escrow', 'release'],
    name: 'lets anyone presenting the preimage release a hash-conditioned deposit',
    steps: [
      depositAB(400n, { hashlocked: true }),
      { do: 'release', as: 'carol', id: 'E', amount: 400n, preimage: 'secret' },
      { do: 'balances', free: { alice: 600n, bob: 400n, carol: 0n } },
    ],
  },
  {
    path: ['escrow', 'release'],
    name: 'rejects a wrong preimage on a hash-conditioned deposit with BAD_PREIMAGE',
    steps: [
      depositAB(400n, { hashlocked: true }),
      { do: 'release', as: 'carol', id: 'E', amount: 400n, preimage: 'wrong', expect: 'BAD_PREIMAGE' },
      { do: 'totals', locked: 0n, escrowed: 400n },
    ],
  },
  {
    path: ['escrow', 'release'],
    name: 'rejects an unknown escrow with NOT_FOUND',
    steps: [{ do: 'release', as: 'manager', id: 'missing', amount: 1n, expect: 'NOT_FOUND' }],
  },
  // ---- Escrow: return ----
  {
    path: ['escrow', 'return'],
    name: 'rejects a return by the depositor before expiry with LOCK_NOT_EXPIRED',
    steps: [
      depositAB(400n),
      { do: 'return', as: 'alice', id: 'E', expect: 'LOCK_NOT_EXPIRED' },
      { do: 'totals', locked: 0n, escrowed: 400n },
    ],
  },
  {
    path: ['escrow', 'return'],
    name: 'lets the depositor take the deposit back at exactly the expiry',
    steps: [
      depositAB(400n),
      { do: 'warp', id: 'E' },
      { do: 'return', as: 'alice', id: 'E' },
      { do: 'balances', free: { alice: INITIAL, bob: 0n } },
      { do: 'totals', locked: 0n, escrowed: 0n },
    ],
  },
  {
    path: ['escrow', 'return'],
    name: 'lets the controller return the deposit before expiry',
    steps: [
      depositAB(400n),
      { do: 'return', as: 'manager', id: 'E' },
      { do: 'balances', free: { alice: INITIAL, bob: 0n } },
      { do: 'release', as: 'manager', id: 'E', amount: 1n, expect: 'ALREADY_SETTLED' },
    ],
  },
  {
    path: ['escrow', 'return'],
    name: 'rejects a return by a stranger with NOT_AUTHORIZED',
    steps: [depositAB(400n), { do: 'return', as: 'carol', id: 'E', expect: 'NOT_AUTHORIZED' }],
  },
];

/** Per-scenario secrets: 32 bytes derived from the scenario name, so runs are reproducible. */
function preimages(seed: string): Record<PreimageKind, `0x${string}`> & { hashlock: `0x${string}` } {
  const secret = createHash('sha256').update(`secret:${seed}`).digest();
  const wrong = createHash('sha256').update(`wrong:${seed}`).digest();
  const hex = (b: Buffer): `0x${string}` => `0x${b.toString('hex')}`;
  return {
    secret: hex(secret),
    wrong: hex(wrong),
    short: hex(secret.subarray(0, 31)),
    long: hex(Buffer.concat([secret, Buffer.from([0])])),
    hashlock: hex(createHash('sha256').update(secret).digest()),
  };
}

/** Runs `op`; if `expected` is set, requires a {@link ScenarioError} with exactly that code. */
async function attempt(op: () => Promise<unknown>, expected: ScenarioErrorCode | undefined): Promise<void> {
  if (expected === undefined) {
    await op();
    return;
  }
  let caught: unknown;
  try {
    await op();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ScenarioError);
  expect((caught as ScenarioError).code).toBe(expected);
}

let runCounter = 0;

/** Executes one scenario against a driver that has just been reset. */
export async function runScenario(driver: LedgerDriver, scenario: Scenario): Promise<void> {
  const keys = preimages(scenario.name);
  // Ids are unique per run so drivers whose contracts outlive reset() never see a collision.
  const run = `${Date.now().toString(36)}-${(runCounter += 1)}`;
  const ledgerIds = new Map<string, string>();
  const expiries = new Map<string, bigint>();
  const idOf = (label: string): string => ledgerIds.get(label) ?? `${label}-${run}`;

  const checkConservation = async (): Promise<void> => {
    const t = await driver.totals();
    expect(t.supply).toBe(INITIAL);
    expect(t.free + t.locked + t.escrowed).toBe(t.supply);
  };

  await checkConservation();
  for (const step of scenario.steps) {
    switch (step.do) {
      case 'lock': {
        const expiry = (await driver.now()) + (step.expiresIn ?? DEFAULT_EXPIRES_IN);
        const params = { receiver: step.to, amount: step.amount, hashlock: keys.hashlock, expiry };
        await attempt(async () => {
          ledgerIds.set(step.id, await driver.lock(step.as, params));
          expiries.set(step.id, expiry);
        }, step.expect);
        break;
      }
      case 'claim':
        await attempt(() => driver.claim(step.as, idOf(step.id), keys[step.preimage]), step.expect);
        break;
      case 'refund':
        await attempt(() => driver.refund(step.as, idOf(step.id)), step.expect);
        break;
      case 'deposit': {
        const expiry = (await driver.now()) + (step.expiresIn ?? DEFAULT_EXPIRES_IN);
        const id = idOf(step.id);
        const params = {
          tradeId: `T-${id}`,
          amount: step.amount,
          beneficiary: step.to,
          controller: step.controller,
          expiry,
          ...(step.hashlocked === true ? { hashlock: keys.hashlock } : {}),
        };
        await attempt(async () => {
          await driver.deposit(step.as, id, params);
          ledgerIds.set(step.id, id);
          expiries.set(step.id, expiry);
        }, step.expect);
        break;
      }
      case 'release': {
        const preimage = step.preimage === undefined ? undefined : keys[step.preimage];
        await attempt(() => driver.release(step.as, idOf(step.id), step.amount, preimage), step.expect);
        break;
      }
      case 'return':
        await attempt(() => driver.returnFunds(step.as, idOf(step.id)), step.expect);
        break;
      case 'warp': {
        const expiry = expiries.get(step.id);
        if (expiry === undefined) throw new Error(`scenario bug: warp to unknown id ${step.id}`);
        await driver.setTime(expiry + (step.offset ?? 0n));
        break;
      }
      case 'balances':
        for (const [who, amount] of Object.entries(step.free) as [Actor, bigint][]) {
          expect(`${who}: ${await driver.freeBalance(who)}`).toBe(`${who}: ${amount}`);
        }
        break;
      case 'totals': {
        const t = await driver.totals();
        expect({ locked: t.locked, escrowed: t.escrowed }).toEqual({ locked: step.locked, escrowed: step.escrowed });
        break;
      }
    }
    await checkConservation();
  }
}

/** Options for {@link describeLedgerScenarios}. */
export type ScenarioTeardown = (driver: LedgerDriver) => Promise<void>;

/**
 * Registers the whole table as jest tests: `describe(driver) › describe('HTLC') › describe('claim')
 * › it('rejects a claim at exactly the expiry with LOCK_EXPIRED')`. One driver is made for the
 * suite and reset before every scenario; `teardown` runs once at the end.
 */
export function describeLedgerScenarios(
  makeDriver: () => Promise<LedgerDriver>,
  teardown?: ScenarioTeardown,
  title = 'ledger scenarios',
): void {
  describe(title, () => {
    let driver: LedgerDriver | undefined;
    const current = async (): Promise<LedgerDriver> => (driver ??= await makeDriver());

    afterAll(async () => {
      if (driver !== undefined && teardown !== undefined) await teardown(driver);
    });

    registerTree(SCENARIOS, 0, async (scenario) => {
      const d = await current();
      await d.reset(INITIAL);
      await runScenario(d, scenario);
    });
  });
}

/** Nests `describe` blocks following each scenario's `path`, preserving table order. */
function registerTree(scenarios: readonly Scenario[], depth: number, run: (scenario: Scenario) => Promise<void>): void {
  const groups = new Map<string, Scenario[]>();
  for (const scenario of scenarios) {
    const head = scenario.path[depth];
    if (head === undefined) {
      it(scenario.name, () => run(scenario));
      continue;
    }
    const group = groups.get(head);
    if (group === undefined) groups.set(head, [scenario]);
    else group.push(scenario);
  }
  for (const [name, members] of groups) {
    describe(name, () => registerTree(members, depth + 1, run));
  }
}
