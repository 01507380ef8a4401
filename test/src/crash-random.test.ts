/**
 * The random crash run on the real ledgers, per settlement mode: 20 trades instructed at random
 * moments over 30 s on both banks' gateways, while each party's gateway (HTLC: the two banks;
 * orchestrated escrow: the banks, manager, notary and observer) is killed -9 ten times at random
 * moments (up 0.5–4 s, down up to 1 s) and restarted on its database. At the end every trade is final on both
 * sides with the same status, the banks' holdings moved by exactly the settled trades, and the
 * independent checker finds every trade of the run at its end, atomically, on both ledgers.
 * Seeded: the seed is printed; `DVP_CRASH_SEED=<seed>` replays the same schedule.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address } from 'viem';
import { ledgerProblems } from './checker';
import { managedTrade } from './escrow-records';
import { instructRetrying } from './crash-matrix';
import { between, carryOut, killPlans, seededRandom, seedFrom } from './crash-random';
import { htlcBanks, type HtlcBanks } from './htlc-banks';
import {
  ESCROW_PARTIES,
  escrowBalances,
  FINAL_STATUSES,
  instructionOf,
  startEscrowParties,
  type EscrowParties,
} from './escrow-parties';
import { describeOnFabric } from './fabric';
import { sharedNetwork, BANK_CASH_SETUP_MS } from './network';
import { fundedInstrument, type FundedInstrument } from './securities-leg';
import { BANKS, partyPem, sleep, type Bank, type GatewayProcess, type Party } from './two-banks';

jest.setTimeout(600_000);

const TRADES = 20;
const KILLS = 10;
const QTY = 10n;
const PRICE = 1_500n;
const SEED = seedFrom(process.env, 'DVP_CRASH_SEED');
const net = sharedNetwork();
const CASH_TOKEN = net.evm.contracts['CashToken'] as Address;
const run = `${process.pid}-${Date.now()}`;
/** What a random run needs of a mode's parties. */
interface RandomRun {
  readonly mode: string;
  readonly isin: string;
  readonly parties: readonly Party[];
  gw(party: Party): GatewayProcess;
  instruct(bank: Bank, tradeId: string): Promise<void>;
  status(bank: Bank, tradeId: string): Promise<string | undefined>;
  /** The buyer's securities and the seller's cash. */
  received(): Promise<{ readonly sec: bigint; readonly cash: bigint }>;
  /** What the parties record of a trade that did not end (printed when one did not). */
  explain(tradeId: string): Promise<string>;
}

/** Each bank's timeline of a trade, one step per line. */
function timelines(trades: readonly unknown[]): string {
  return trades.map((t, i) => `--- ${BANKS[i]}\n${JSON.stringify(t, null, 1)}`).join('\n');
}

/** Every trade's status on both banks once all are final (or the last seen, after 3 minutes). */
async function finalStatuses(r: RandomRun, ids: readonly string[]) {
  const seen: Record<string, Record<Bank, string | undefined>> = {};
  const done = (id: string): boolean => BANKS.every((b) => FINAL_STATUSES.includes(seen[id]?.[b] ?? ''));
  for (const deadline = Date.now() + 180_000; Date.now() < deadline && !ids.every(done); await sleep(500)) {
    for (const id of ids.filter((i) => !done(i))) {
      seen[id] = { seller: await r.status('seller', id), buyer: await r.status('buyer', id) };
    }
  }
  return seen;
}

/** The run: trades instructed at random moments while every party is killed at random moments. */
async function randomRun(r: RandomRun): Promise<void> {
  const replay = `${r.mode}, seed ${SEED}; replay with DVP_CRASH_SEED=${SEED}`;
  process.stdout.write(`random crash run: ${replay}\n`);
  const rand = seededRandom(SEED);
  const plans = killPlans(rand, r.parties, KILLS, [500, 4000]);
  const instructAt = Array.from({ length: TRADES }, () => BANKS.map(() => between(rand, 0, 30_000)));
  const ids = instructAt.map((_, i) => `CR-${r.mode}-${i}-${run}`);
  const before = await r.received();
  const kills: string[] = [];
  const crashes = plans.map((plan) => carryOut(r.gw(plan.party), plan, (line) => kills.push(line)));
  const instructions = ids.flatMap((id, i) =>
    BANKS.map(async (b, side) => {
      await sleep(instructAt[i]?.[side] ?? 0);
      await r.instruct(b, id);
    }),
  );
  // Settled, not all: a failed instruction must not leave the kill loops restarting gateways.
  const outcomes = await Promise.allSettled([...crashes, ...instructions]);
  const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
  expect({ replay, errors }).toEqual({ replay, errors: [] });
  expect(kills).toHaveLength(KILLS * r.parties.length);

  const statuses = await finalStatuses(r, ids);
  const settled = ids.filter((id) => statuses[id]?.seller === 'settled').length;
  process.stdout.write(`random crash run: ${settled} of ${TRADES} settled after ${kills.length} kills (${replay})\n`);
  for (const id of ids.filter((i) => statuses[i]?.seller !== 'settled').slice(0, 3)) {
    process.stdout.write(`random crash run: ${id} did not settle\n${await r.explain(id)}\n`);
  }
  for (const id of ids) {
    const s = statuses[id];
    const final = FINAL_STATUSES.includes(s?.seller ?? '') && s?.seller === s?.buyer;
    expect({ id, replay, final, s }).toEqual({ id, replay, final: true, s });
  }
  const after = await r.received();
  const n = BigInt(settled);
  expect({ replay, sec: after.sec - before.sec, cash: after.cash - before.cash }).toEqual({
    replay,
    sec: n * QTY,
    cash: n * QTY * PRICE,
  });
  const problems = await ledgerProblems(net, { isins: [r.isin], cashToken: CASH_TOKEN });
  expect({ replay, problems }).toEqual({ replay, problems: [] });
}

describe('HTLC', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvp-crash-random-'));
  let funded: FundedInstrument;
  let banks: HtlcBanks;

  beforeAll(async () => {
    funded = await fundedInstrument(net, `CR${Date.now() % 10_000_000}`, { securities: 10_000n, cash: 10_000_000n });
    const { isin, leg } = funded;
    banks = await htlcBanks({ net, leg, isin, quantity: QTY, price: PRICE, dir });
    await Promise.all(BANKS.map((b) => banks.gw[b].start()));
  }, BANK_CASH_SETUP_MS); // it may wait for another file holding the banks' cash

  afterAll(async () => {
    await Promise.all(BANKS.map((b) => banks?.gw[b].kill9()));
    funded?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('settles 20 concurrent trades while each bank’s gateway is killed -9 ten times at random moments', async () => {
    await randomRun({
      mode: 'htlc',
      isin: funded.isin,
      parties: BANKS,
      gw: (party) => banks.gw[party as Bank],
      instruct: async (b, id) => {
        await instructRetrying(banks.gw[b], banks.trader[b], banks.instruction(b, id), `${id}-${b}`, 120_000);
      },
      status: (b, id) => banks.status(b, id),
      received: async () => {
        const h = await banks.holdings();
        return { sec: h.sec.buyer, cash: h.cash.seller };
      },
      explain: async (id) => timelines(await Promise.all(BANKS.map((b) => banks.trade(b, id).catch(String)))),
    });
  });
});

describeOnFabric('orchestrated escrow', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvp-crash-random-escrow-'));
  const trader = { seller: partyPem(net, 'seller', 'trader'), buyer: partyPem(net, 'buyer', 'trader') };
  let deadline = 0; // set when the test starts: the file may wait long for the banks' cash
  let funded: FundedInstrument;
  let p: EscrowParties;

  beforeAll(async () => {
    funded = await fundedInstrument(net, `CS${Date.now() % 10_000_000}`, { securities: 10_000n, cash: 10_000_000n });
    const escrow = { deltaSeconds: 10, graceSeconds: 5, pollIntervalMs: 200 };
    p = await startEscrowParties({ net, leg: funded.leg, dir, escrow });
  }, BANK_CASH_SETUP_MS);

  afterAll(async () => {
    await p?.kill();
    funded?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('settles 20 concurrent trades while each of the five parties’ gateways is killed -9 ten times', async () => {
    const { isin, leg } = funded;
    deadline = Math.floor(Date.now() / 1000) + 600;
    await randomRun({
      mode: 'escrow',
      isin,
      parties: ESCROW_PARTIES,
      gw: (party) => p.gw[party],
      instruct: async (b, id) => {
        const terms = { tradeId: id, isin, quantity: QTY, price: PRICE, settlementDeadline: deadline };
        await instructRetrying(p.gw[b], trader[b], instructionOf(b, terms), `${id}-${b}`, 120_000);
      },
      status: async (b, id) => (await p.trade(b, id).catch(() => undefined))?.status,
      received: async () => {
        const b = await escrowBalances(net, leg);
        return { sec: b.securities.buyer, cash: b.cash.seller };
      },
      explain: async (id) => {
        const banks = await Promise.all(BANKS.map((b) => p.trade(b, id).catch(String)));
        return `${timelines(banks)}\nmanager: ${JSON.stringify(managedTrade(p.gw.manager, id))}`;
      },
    });
  });
});
