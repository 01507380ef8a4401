import { createHash } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { makeFixture, ok, seed, TEST_ISIN } from './testing/fixture';
import type { Fixture, Member } from './testing/fixture';

/** A second valid ISIN (SAP SE) so operations on one asset must not disturb the other. */
const OTHER_ISIN = 'DE0007164600';
const ISINS = [TEST_ISIN, OTHER_ISIN] as const;
const HOLDERS = ['alice', 'bob', 'carol', 'manager'] as const satisfies readonly Member[];

/**
 * Fixed by default so CI is reproducible (and the coverage check below deterministic);
 * `FC_SEED=<n>` replays or explores another seed, `FC_SEED=random` lets fast-check pick.
 */
const SEED: { seed?: number } =
  process.env['FC_SEED'] === 'random' ? {} : { seed: Number(process.env['FC_SEED'] ?? 20261124) };

const holder = fc.constantFrom(...HOLDERS);
const isin = fc.constantFrom(...ISINS);
// Mostly valid amounts, sometimes zero or more than anyone holds.
const amount = fc.oneof(
  { arbitrary: fc.bigInt({ min: 1n, max: 200n }), weight: 8 },
  { arbitrary: fc.constantFrom(0n, 10_000n), weight: 1 },
);
const ttl = fc.integer({ min: 1, max: 100 });

type Command =
  | { op: 'issue'; isin: string; to: Member; amount: bigint }
  | { op: 'redeem'; isin: string; from: Member; amount: bigint }
  | { op: 'transfer'; isin: string; from: Member; to: Member; amount: bigint }
  | { op: 'lock'; isin: string; from: Member; to: Member; amount: bigint; ttl: number }
  | { op: 'claim'; index: number; as: Member; right: boolean }
  | { op: 'refund'; index: number; as: Member }
  | { op: 'deposit'; isin: string; from: Member; to: Member; amount: bigint; ttl: number; hashlocked: boolean }
  | { op: 'release'; index: number; as: Member; amount: bigint; withPreimage: boolean }
  | { op: 'return'; index: number; as: Member }
  | { op: 'advance'; seconds: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('issue' as const), isin, to: holder, amount }),
  fc.record({ op: fc.constant('redeem' as const), isin, from: holder, amount }),
  fc.record({ op: fc.constant('transfer' as const), isin, from: holder, to: holder, amount }),
  fc.record({ op: fc.constant('lock' as const), isin, from: holder, to: holder, amount, ttl }),
  {
    arbitrary: fc.record({ op: fc.constant('claim' as const), index: fc.nat(20), as: holder, right: fc.boolean() }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('refund' as const), index: fc.nat(20), as: holder }), weight: 3 },
  fc.record({
    op: fc.constant('deposit' as const),
    isin,
    from: holder,
    to: holder,
    amount,
    ttl,
    hashlocked: fc.boolean(),
  }),
  {
    arbitrary: fc.record({
      op: fc.constant('release' as const),
      index: fc.nat(20),
      // Mostly the controller, so partial releases actually happen.
      as: fc.oneof({ arbitrary: fc.constant('manager' as const), weight: 3 }, { arbitrary: holder, weight: 1 }),
      amount: fc.oneof({ arbitrary: fc.bigInt({ min: 1n, max: 60n }), weight: 4 }, { arbitrary: amount, weight: 1 }),
      withPreimage: fc.boolean(),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('return' as const), index: fc.nat(20), as: holder }), weight: 2 },
  {
    arbitrary: fc.record({ op: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 120 }) }),
    weight: 2,
  },
);

const secretOf = (id: string): string => createHash('sha256').update(`secret:${id}`).digest('hex');
const hashOf = (hex: string): string => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

/** What a command runs against: the fixture, the step's number (for fresh ids) and the expected supply. */
interface Step {
  readonly fx: Fixture;
  readonly step: number;
  readonly supply: Map<string, bigint>;
}

/** Ids of locks/escrows still open (most commands target one of those), else of any. */
function targetIds(fx: Fixture, prefix: 'htlc' | 'escrow'): string[] {
  const all = [...fx.ledger.world.state.entries()].filter(([k]) => k.startsWith(`\u0000${prefix}\u0000`));
  const open = all.filter(([, v]) =>
    ['LOCKED', 'OPEN'].includes((JSON.parse(v.toString()) as { status: string }).status),
  );
  return (open.length > 0 ? open : all).map(([k]) => k.split('\u0000')[2] ?? '');
}

/** The trade of escrow `id`: an escrow's secret is keyed by its trade, since the ledger derives its id. */
function tradeOfEscrow(fx: Fixture, id: string): string {
  const entry = [...fx.ledger.world.state.entries()].find(([k]) => k === `\u0000escrow\u0000${id}\u0000`);
  return entry ? (JSON.parse(entry[1].toString()) as { tradeId: string }).tradeId : 'none';
}

/** The command's target: the `index`-th id of {@link targetIds}, wrapping around ('none' if there is none). */
function target(fx: Fixture, prefix: 'htlc' | 'escrow', index: number): string {
  const list = targetIds(fx, prefix);
  return list[index % Math.max(list.length, 1)] ?? 'none';
}

/** Moves the expected supply of `isin` by `delta` if the call succeeded; returns the call's status. */
function countSupply(supply: Map<string, bigint>, isin: string, delta: bigint, status: number): number {
  if (status === 200) supply.set(isin, (supply.get(isin) ?? 0n) + delta);
  return status;
}

/** One runner per kind of command; each resolves with the transaction's status. */
const RUNNERS: { readonly [K in Command['op']]: (s: Step, cmd: Extract<Command, { op: K }>) => Promise<number> } = {
  issue: async ({ fx: { ledger, ids }, supply }, cmd) => {
    const r = await ledger.submit(ids.issuer, 'Issue', cmd.isin, ids[cmd.to].account, cmd.amount.toString());
    return countSupply(supply, cmd.isin, cmd.amount, r.status);
  },
  redeem: async ({ fx: { ledger, ids }, supply }, cmd) => {
    const r = await ledger.submit(ids.issuer, 'Redeem', cmd.isin, ids[cmd.from].account, cmd.amount.toString());
    return countSupply(supply, cmd.isin, -cmd.amount, r.status);
  },
  transfer: async ({ fx: { ledger, ids } }, cmd) =>
    (
      await ledger.submit(
        ids[cmd.from],
        'Transfer',
        cmd.isin,
        ids[cmd.from].account,
        ids[cmd.to].account,
        cmd.amount.toString(),
      )
    ).status,
  lock: async ({ fx: { ledger, ids }, step }, cmd) => {
    const id = `L${step}`;
    const expiry = String(ledger.time + cmd.ttl);
    return (
      await ledger.submit(
        ids[cmd.from],
        'LockHTLC',
        id,
        cmd.isin,
        cmd.amount.toString(),
        ids[cmd.to].account,
        hashOf(secretOf(id)),
        expiry,
      )
    ).status;
  },
  claim: async ({ fx }, cmd) => {
    const id = target(fx, 'htlc', cmd.index);
    const preimage = cmd.right ? secretOf(id) : secretOf(`${id}x`);
    return (await fx.ledger.submit(fx.ids[cmd.as], 'ClaimHTLC', id, preimage)).status;
  },
  refund: async ({ fx }, cmd) =>
    (await fx.ledger.submit(fx.ids[cmd.as], 'RefundHTLC', target(fx, 'htlc', cmd.index))).status,
  deposit: async ({ fx: { ledger, ids }, step }, cmd) => {
    const tradeId = `T${step}`;
    const expiry = String(ledger.time + cmd.ttl);
    const hashlock = cmd.hashlocked ? hashOf(secretOf(tradeId)) : '';
    return (
      await ledger.submit(
        ids[cmd.from],
        'EscrowDeposit',
        tradeId,
        cmd.isin,
        cmd.amount.toString(),
        ids[cmd.to].account,
        ids.manager.account,
        expiry,
        hashlock,
        '',
      )
    ).status;
  },
  release: async ({ fx }, cmd) => {
    const id = target(fx, 'escrow', cmd.index);
    return (
      await fx.ledger.submit(
        fx.ids[cmd.as],
        'EscrowRelease',
        id,
        cmd.amount.toString(),
        cmd.withPreimage ? secretOf(tradeOfEscrow(fx, id)) : '',
      )
    ).status;
  },
  return: async ({ fx }, cmd) =>
    (await fx.ledger.submit(fx.ids[cmd.as], 'EscrowReturn', target(fx, 'escrow', cmd.index))).status,
  advance: async ({ fx }, cmd) => {
    fx.ledger.time += cmd.seconds;
    return 200;
  },
};

/** Applies one command; failures are expected and ignored (conservation must hold regardless). */
async function apply(fx: Fixture, cmd: Command, step: number, supply: Map<string, bigint>): Promise<number> {
  // TypeScript cannot pair a union's member with its runner by itself: RUNNERS' type does.
  const run = RUNNERS[cmd.op] as (s: Step, cmd: Command) => Promise<number>;
  return run({ fx, step, supply }, cmd);
}

async function checkConservation(fx: Fixture, supply: ReadonlyMap<string, bigint>): Promise<void> {
  for (const i of ISINS) {
    const b = JSON.parse(ok(await fx.ledger.evaluate(fx.ids.auditor, 'SupplyBreakdown', i)).payload) as Record<
      string,
      string
    >;
    const [free, locked, escrowed, total] = [b['free'], b['locked'], b['escrowed'], b['supply']].map((v) =>
      BigInt(v ?? 'x'),
    );
    expect({ isin: i, sum: (free ?? 0n) + (locked ?? 0n) + (escrowed ?? 0n) }).toEqual({ isin: i, sum: total });
    expect({ isin: i, supply: total }).toEqual({ isin: i, supply: supply.get(i) ?? 0n });
    let holders = 0n;
    for (const h of HOLDERS) {
      holders += BigInt(ok(await fx.ledger.evaluate(fx.ids[h], 'BalanceOf', i, fx.ids[h].account)).payload);
    }
    expect({ isin: i, free: holders }).toEqual({ isin: i, free });
  }
}

describe('conservation', () => {
  it('keeps free + locked + escrowed = issued - redeemed for every ISIN after every step', async () => {
    const succeeded = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40, size: 'max' }), async (commands) => {
        const fx = await makeFixture();
        await seed(fx, 0n);
        ok(await fx.ledger.submit(fx.ids.issuer, 'CreateInstrument', OTHER_ISIN, 'SAP SE', '1'));
        for (const i of ISINS) {
          for (const h of HOLDERS) ok(await fx.ledger.submit(fx.ids.issuer, 'Issue', i, fx.ids[h].account, '300'));
        }
        const supply = new Map<string, bigint>(ISINS.map((i) => [i, 300n * BigInt(HOLDERS.length)]));
        await checkConservation(fx, supply);
        for (const [step, cmd] of commands.entries()) {
          if ((await apply(fx, cmd, step, supply)) === 200) succeeded.set(cmd.op, (succeeded.get(cmd.op) ?? 0) + 1);
          await checkConservation(fx, supply);
        }
      }),
      { numRuns: 40, ...SEED },
    );
    // Not vacuous: every kind of operation succeeded at least once across the runs.
    expect([...succeeded.keys()].sort()).toEqual([
      'advance',
      'claim',
      'deposit',
      'issue',
      'lock',
      'redeem',
      'refund',
      'release',
      'return',
      'transfer',
    ]);
  }, 60_000);
});
