/**
 * Runs the scenario table (`table.ts`) against a {@link LedgerDriver}: executes each scenario's
 * steps in order and, after every step (including rejected ones), checks conservation:
 * `free + locked + escrowed = supply`, and `supply` never changes.
 *
 * Scenarios run one after another on one driver, or (for a ledger whose clock cannot be moved,
 * see {@link RealTimeSchedule}) several at once, each on a driver of its own.
 */
import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ScenarioError } from './driver';
import type { Actor, LedgerDriver, RealTimeSchedule, ScenarioErrorCode } from './driver';
import { INITIAL, SCENARIOS, DEFAULT_EXPIRES_IN } from './table';
import type { PreimageKind, Scenario, Step } from './table';

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

/** One scenario's run: its driver and secrets, and the ledger ids and expiries its steps created. */
interface ScenarioRun {
  readonly driver: LedgerDriver;
  readonly keys: ReturnType<typeof preimages>;
  readonly defaultExpiresIn: bigint;
  /** Ledger id per step label (the id the ledger derived for a lock or deposit). */
  readonly ledgerIds: Map<string, string>;
  readonly expiries: Map<string, bigint>;
  /** The ledger id of a label: the recorded one, else one unique to this run. */
  readonly idOf: (label: string) => string;
}

/** When a lock or deposit step expires: ledger time now plus its `expiresIn`, or the run's default. */
async function expiryOf(r: ScenarioRun, step: { readonly expiresIn?: bigint }): Promise<bigint> {
  return (await r.driver.now()) + (step.expiresIn ?? r.defaultExpiresIn);
}

/** How each kind of step runs. */
const STEP_RUNNERS: { readonly [K in Step['do']]: (r: ScenarioRun, step: Extract<Step, { do: K }>) => Promise<void> } =
  {
    lock: async (r, step) => {
      const expiry = await expiryOf(r, step);
      const params = { receiver: step.to, amount: step.amount, hashlock: r.keys.hashlock, expiry };
      await attempt(async () => {
        r.ledgerIds.set(step.id, await r.driver.lock(step.as, params));
        r.expiries.set(step.id, expiry);
      }, step.expect);
    },
    claim: (r, step) => attempt(() => r.driver.claim(step.as, r.idOf(step.id), r.keys[step.preimage]), step.expect),
    refund: (r, step) => attempt(() => r.driver.refund(step.as, r.idOf(step.id)), step.expect),
    deposit: async (r, step) => {
      const expiry = await expiryOf(r, step);
      const params = {
        tradeId: r.idOf(step.trade ?? 'T'),
        amount: step.amount,
        beneficiary: step.to,
        controller: step.controller,
        expiry,
        ...(step.hashlocked === true ? { hashlock: r.keys.hashlock } : {}),
        ...(step.notarized === true ? { notary: 'notary' as const } : {}),
      };
      await attempt(async () => {
        r.ledgerIds.set(step.id, await r.driver.deposit(step.as, params));
        r.expiries.set(step.id, expiry);
      }, step.expect);
    },
    approve: (r, step) => attempt(() => r.driver.approve(step.as, r.idOf(step.id), step.amount), step.expect),
    release: (r, step) => {
      const preimage = step.preimage === undefined ? undefined : r.keys[step.preimage];
      return attempt(() => r.driver.release(step.as, r.idOf(step.id), step.amount, preimage), step.expect);
    },
    return: (r, step) => attempt(() => r.driver.returnFunds(step.as, r.idOf(step.id)), step.expect),
    warp: async (r, step) => {
      const expiry = r.expiries.get(step.id);
      if (expiry === undefined) throw new Error(`scenario bug: warp to unknown id ${step.id}`);
      await r.driver.setTime(expiry + (step.offset ?? 0n));
    },
    balances: async (r, step) => {
      for (const [who, amount] of Object.entries(step.free) as [Actor, bigint][]) {
        expect(`${who}: ${await r.driver.freeBalance(who)}`).toBe(`${who}: ${amount}`);
      }
    },
    totals: async (r, step) => {
      const t = await r.driver.totals();
      expect({ locked: t.locked, escrowed: t.escrowed }).toEqual({ locked: step.locked, escrowed: step.escrowed });
    },
  };

/** Conservation: the supply never changes, and `free + locked + escrowed = supply`. */
async function checkConservation(driver: LedgerDriver): Promise<void> {
  const t = await driver.totals();
  expect(t.supply).toBe(INITIAL);
  expect(t.free + t.locked + t.escrowed).toBe(t.supply);
}

/**
 * Executes one scenario against a driver that has just been reset. `defaultExpiresIn` is the
 * lifetime of lock and deposit steps without `expiresIn` (the table's {@link DEFAULT_EXPIRES_IN}
 * unless the ledger must wait for expiries, see {@link RealTimeSchedule}).
 */
export async function runScenario(
  driver: LedgerDriver,
  scenario: Scenario,
  defaultExpiresIn: bigint = DEFAULT_EXPIRES_IN,
): Promise<void> {
  // Ids are unique per run so drivers whose contracts outlive reset() never see a collision.
  const run = `${Date.now().toString(36)}-${(runCounter += 1)}`;
  const ledgerIds = new Map<string, string>();
  const r: ScenarioRun = {
    driver,
    keys: preimages(scenario.name),
    defaultExpiresIn,
    ledgerIds,
    expiries: new Map<string, bigint>(),
    idOf: (label) => ledgerIds.get(label) ?? `${label}-${run}`,
  };
  await checkConservation(driver);
  for (const step of scenario.steps) {
    // TypeScript cannot pair a union's member with its runner by itself: STEP_RUNNERS' type does.
    const runStep = STEP_RUNNERS[step.do] as (r: ScenarioRun, step: Step) => Promise<void>;
    await runStep(r, step);
    await checkConservation(driver);
  }
}

/** Releases what a driver holds (a node, connections); {@link describeLedgerScenarios} says when it runs. */
export type ScenarioTeardown = (driver: LedgerDriver) => Promise<void>;

/**
 * Registers the whole table as jest tests: `describe(driver) › describe('HTLC') › describe('claim')
 * › it('rejects a claim at exactly the expiry with LOCK_EXPIRED')`. Without `schedule`, one driver
 * is made for the suite and reset before every scenario; `teardown` runs once at the end. With
 * `schedule` (a ledger that must wait for expiries), `makeDriver` is called for every scenario,
 * the scenarios start together when the suite starts, `schedule.concurrency` at a time, each test
 * reports its own scenario, and `teardown` runs for each driver after its scenario.
 */
export function describeLedgerScenarios(
  makeDriver: () => Promise<LedgerDriver>,
  teardown?: ScenarioTeardown,
  title = 'ledger scenarios',
  schedule?: RealTimeSchedule,
): void {
  if (schedule !== undefined) {
    describeConcurrentScenarios(makeDriver, teardown, title, schedule);
    return;
  }
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

/** The concurrent form of {@link describeLedgerScenarios} (see there). */
function describeConcurrentScenarios(
  makeDriver: () => Promise<LedgerDriver>,
  teardown: ScenarioTeardown | undefined,
  title: string,
  schedule: RealTimeSchedule,
): void {
  describe(title, () => {
    // Settled outcomes (never rejected, so no rejection goes unhandled before its test awaits it).
    const outcomes = new Map<Scenario, Promise<{ readonly failure?: unknown }>>();
    const runOwn = async (scenario: Scenario): Promise<void> => {
      const driver = await makeDriver();
      try {
        await driver.reset(INITIAL);
        await runScenario(driver, scenario, schedule.defaultExpiresIn);
      } finally {
        await teardown?.(driver);
      }
    };

    beforeAll(() => {
      const slot = limiter(schedule.concurrency);
      for (const scenario of SCENARIOS) {
        const outcome = slot(() => runOwn(scenario)).then(
          () => ({}),
          (failure: unknown) => ({ failure }),
        );
        outcomes.set(scenario, outcome);
      }
    });
    afterAll(async () => void (await Promise.all(outcomes.values())));

    registerTree(
      SCENARIOS,
      0,
      async (scenario) => {
        const outcome = await outcomes.get(scenario);
        if (outcome === undefined) throw new Error(`scenario not started: ${scenario.name}`);
        if ('failure' in outcome) throw outcome.failure;
      },
      schedule.timeoutMs,
    );
  });
}

/** Runs at most `concurrency` jobs at once, in the order they were given. */
function limiter(concurrency: number): (job: () => Promise<void>) => Promise<void> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (job) => {
    if (running < concurrency) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // a finished job hands over its slot
    try {
      await job();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  };
}

/** Nests `describe` blocks following each scenario's `path`, preserving table order. */
function registerTree(
  scenarios: readonly Scenario[],
  depth: number,
  run: (scenario: Scenario) => Promise<void>,
  timeoutMs?: number,
): void {
  const groups = new Map<string, Scenario[]>();
  for (const scenario of scenarios) {
    const head = scenario.path[depth];
    if (head === undefined) {
      it(scenario.name, () => run(scenario), timeoutMs);
      continue;
    }
    const group = groups.get(head);
    if (group === undefined) groups.set(head, [scenario]);
    else group.push(scenario);
  }
  for (const [name, members] of groups) {
    describe(name, () => registerTree(members, depth + 1, run, timeoutMs));
  }
}
