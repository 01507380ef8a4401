/**
 * The HTLC crash matrix (crash-matrix.ts) on the real ledgers: the seller's and the buyer's
 * gateways as processes, securities on the Fabric peers (or the EVM stand-in), cash on anvil. A
 * trade run without a crash must pass exactly the points that matching and the HTLC mode declare
 * for a settling trade; then, for every point on the side that passes it, a trade whose gateway
 * dies there (kill -9 of itself), is restarted, and settles: both sides settled, the exact
 * quantity and amount moved once on each ledger, and at the end the independent checker finds
 * every trade of the run at its end, atomically, on both ledgers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address } from 'viem';
import { crashPointsOf } from '../../gateway/src/core/crash-points';
import { HTLC_STEPS } from '../../gateway/src/settlement/htlc/progress';
import { MATCHING_STEPS } from '../../gateway/src/trades/matching';
import { ledgerProblems } from './checker';
import { CrashMatrix, instructRetrying, onlyRequested, type MatrixEntry } from './crash-matrix';
import { FINAL, htlcBanks, type HtlcBanks } from './htlc-banks';
import { lockBankCash, sharedNetwork } from './network';
import { securitiesLeg, testIsin, type SecuritiesLeg } from './securities-leg';
import { addressOf, BANKS, issue, sleep, type Bank } from './two-banks';

jest.setTimeout(900_000);

const net = sharedNetwork();
const ISIN = testIsin(`CM${Date.now() % 10_000_000}`);
const QTY = 10n;
const PRICE = 1_500n;
const CASH_TOKEN = net.evm.contracts['CashToken'] as Address;
const run = `${process.pid}-${Date.now()}`;

const dir = mkdtempSync(join(tmpdir(), 'dvp-crash-matrix-htlc-'));
let leg: SecuritiesLeg;
let banks: HtlcBanks;
let matrix: CrashMatrix;
let unlockCash: (() => void) | undefined;

/** Both sides instruct (retrying through a crash) and both reach a final status; both must be settled, with exact movements. */
async function settle(tradeId: string, entry?: MatrixEntry): Promise<void> {
  const before = await banks.holdings();
  await Promise.all(
    BANKS.map((b) =>
      instructRetrying(banks.gw[b], banks.trader[b], banks.instruction(b, tradeId), `${tradeId}-${b}`, 90_000),
    ),
  );
  const ends: Record<Bank, string | undefined> = { seller: undefined, buyer: undefined };
  for (const deadline = Date.now() + 90_000; BANKS.some((b) => !FINAL.includes(ends[b] ?? '')); await sleep(100)) {
    for (const b of BANKS) ends[b] = await banks.status(b, tradeId);
    if (Date.now() > deadline) {
      throw new Error(`${tradeId} (${entry?.party} at ${entry?.point}) not final: ${JSON.stringify(ends)}`);
    }
  }
  expect({ point: entry?.point, ...ends }).toEqual({ point: entry?.point, seller: 'settled', buyer: 'settled' });
  const after = await banks.holdings();
  expect({
    point: entry?.point,
    sec: after.sec.buyer - before.sec.buyer,
    secSeller: after.sec.seller - before.sec.seller,
    cash: after.cash.seller - before.cash.seller,
    cashBuyer: after.cash.buyer - before.cash.buyer,
  }).toEqual({ point: entry?.point, sec: QTY, secSeller: -QTY, cash: QTY * PRICE, cashBuyer: -QTY * PRICE });
}

beforeAll(async () => {
  unlockCash = await lockBankCash(net);
  leg = await securitiesLeg(net, ISIN);
  await leg.issue('seller', 10_000n);
  await issue(net, CASH_TOKEN, addressOf(net, 'buyer'), 10_000_000n);
  banks = await htlcBanks({ net, leg, isin: ISIN, quantity: QTY, price: PRICE, dir });
  matrix = new CrashMatrix({ gw: banks.gw, startOrder: [BANKS], dir });
  await matrix.startAll();
}, 660_000); // it may wait for another file holding the banks' cash

afterAll(async () => {
  await matrix?.killAll();
  leg?.close();
  rmSync(dir, { recursive: true, force: true });
  unlockCash?.();
});

let entries: MatrixEntry[] = [];

it('a trade that settles passes exactly the crash points matching and the HTLC mode declare', async () => {
  const id = `CM-CLEAN-${run}`;
  await settle(id);
  entries = matrix.passed(id);
  const declared = [...crashPointsOf(MATCHING_STEPS, true), ...crashPointsOf(HTLC_STEPS, true)];
  expect([...new Set(entries.map((e) => e.point))].sort()).toEqual([...declared].sort());
});

it('settles exactly once after its gateway is killed -9 at every point, on each side that passes it, and restarted', async () => {
  expect(entries.length).toBeGreaterThan(30);
  const cells = onlyRequested(entries);
  const runs = await matrix.run(cells, (i) => `CM-${i}-${run}`, settle);
  expect(runs.map((r) => `${r.party} ${r.point}`)).toEqual(cells.map((e) => `${e.party} ${e.point}`));
  const slowest = [...runs].sort((a, b) => b.ms - a.ms)[0];
  process.stdout.write(
    `HTLC crash matrix: ${runs.length} points; slowest ${slowest?.party} ${slowest?.point} ${slowest?.ms} ms\n`,
  );
});

it('leaves both ledgers consistent, as the independent checker reads them', async () => {
  expect(await ledgerProblems(net, { isins: [ISIN], cashToken: CASH_TOKEN })).toEqual([]);
});
