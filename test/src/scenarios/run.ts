/**
 * Runs the scenario table (`table.ts`) against a {@link LedgerDriver}: executes each scenario's
 * steps in order and, after every step (including rejected ones), checks conservation:
 * `free + locked + escrowed = supply`, and `supply` never changes.
 */
import { createHash } from 'node:crypto';

import { afterAll, describe, expect, it } from '@jest/globals';

import { ScenarioError } from './driver';
import type { Actor, LedgerDriver, ScenarioErrorCode } from './driver';
import { INITIAL, SCENARIOS, DEFAULT_EXPIRES_IN } from './table';
import type { PreimageKind, Scenario } from './table';

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
