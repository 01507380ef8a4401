/**
 * The HTLC crash matrix (crash-matrix.ts) on the real ledgers: the seller's and the buyer's
 * gateways as processes, securities on the Fabric peers (or the EVM stand-in), cash on anvil. A
 * trade run without a crash must pass exactly the points that matching and the HTLC mode declare
 * for a settling trade; then, for every point on the side that passes it, a trade whose gateway
 * dies there (kill -9 of itself), is restarted, and settles: both sides settled, the exact
 * quantity and amount moved once on each ledger, and at the end the independent checker finds
 * every trade of the run at its end, atomically, on both ledgers. T_L 48 s, T_F 24 s, Δ 12 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTLC_STEPS } from '../../gateway/src/settlement/htlc/progress';
import { CrashMatrix, crashMatrixTests, instructRetrying, type MatrixEntry } from './crash-matrix';
import { FINAL, htlcBanks, type HtlcBanks } from './htlc-banks';
import { sharedNetwork, BANK_CASH_SETUP_MS } from './network';
import { fundedInstrument, type FundedInstrument } from './securities-leg';
import { BANKS, sleep, type Bank } from './two-banks';

jest.setTimeout(900_000);

const net = sharedNetwork();
const QTY = 10n;
const PRICE = 1_500n;
const dir = mkdtempSync(join(tmpdir(), 'dvp-crash-matrix-htlc-'));
let funded: FundedInstrument;
let banks: HtlcBanks;
let matrix: CrashMatrix;

/** Both sides instruct (retrying through a crash); both must end settled, with exact movements. */
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
  const after = await banks.holdings();
  expect({
    point: entry?.point,
    ...ends,
    moved: [after.sec.buyer - before.sec.buyer, before.sec.seller - after.sec.seller],
    paid: [after.cash.seller - before.cash.seller, before.cash.buyer - after.cash.buyer],
  }).toEqual({
    point: entry?.point,
    seller: 'settled',
    buyer: 'settled',
    moved: [QTY, QTY],
    paid: [QTY * PRICE, QTY * PRICE],
  });
}

beforeAll(async () => {
  funded = await fundedInstrument(net, `CM${Date.now() % 10_000_000}`, { securities: 10_000n, cash: 10_000_000n });
  const { isin, leg } = funded;
  banks = await htlcBanks({ net, leg, isin, quantity: QTY, price: PRICE, dir });
  matrix = new CrashMatrix({ gw: banks.gw, startOrder: [BANKS], dir });
  await matrix.startAll();
}, BANK_CASH_SETUP_MS); // it may wait for another file holding the banks' cash

afterAll(async () => {
  await matrix?.killAll();
  funded?.release();
  rmSync(dir, { recursive: true, force: true });
});

crashMatrixTests({
  net,
  mode: 'HTLC',
  steps: HTLC_STEPS,
  prefix: 'CM',
  minCells: 47,
  matrix: () => matrix,
  isin: () => funded.isin,
  settle,
});
