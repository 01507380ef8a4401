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
import { freePort } from '@dvp/certs';
import { crashPointsOf } from '../../gateway/src/core/crash-points';
import { HTLC_STEPS } from '../../gateway/src/settlement/htlc/progress';
import { MATCHING_STEPS } from '../../gateway/src/trades/matching';
import { ledgerProblems } from './checker';
import { CrashMatrix, instructRetrying, onlyRequested, type MatrixEntry } from './crash-matrix';
import { lockBankCash, sharedNetwork } from './network';
import { securitiesLeg, testIsin, type SecuritiesLeg } from './securities-leg';
import { addressOf, balanceOf, BANKS, GatewayProcess, issue, sleep, walletPem, type Bank } from './two-banks';

jest.setTimeout(900_000);

const net = sharedNetwork();
const ISIN = testIsin(`CM${Date.now() % 10_000_000}`);
const QTY = 10n;
const PRICE = 1_500n;
const CASH_TOKEN = net.evm.contracts['CashToken'] as Address;
const trader = { seller: walletPem(net, 'seller', 'trader'), buyer: walletPem(net, 'buyer', 'trader') };
const run = `${process.pid}-${Date.now()}`;
const DEADLINE = Math.floor(Date.now() / 1000) + 3600;
const FINAL = ['settled', 'failed', 'cancelled'];

const dir = mkdtempSync(join(tmpdir(), 'dvp-crash-matrix-htlc-'));
let leg: SecuritiesLeg;
let gw: Record<Bank, GatewayProcess>;
let matrix: CrashMatrix;
let unlockCash: (() => void) | undefined;

const instruction = (bank: Bank, tradeId: string) => ({
  tradeId,
  side: bank === 'seller' ? 'sell' : 'buy',
  counterparty: bank === 'seller' ? 'buyer' : 'seller',
  isin: ISIN,
  quantity: QTY.toString(),
  price: PRICE.toString(),
  currency: 'EUR',
  mode: 'htlc',
  settlementDeadline: DEADLINE,
  partial: 'NPAR',
});

async function status(bank: Bank, tradeId: string): Promise<string | undefined> {
  const res = await gw[bank].call(trader[bank], 'GET', `/v1/trades/${tradeId}`).catch(() => undefined);
  return res?.status === 200 ? (res.json['status'] as string) : undefined;
}

async function holdings() {
  return {
    sec: { seller: await leg.balance('seller'), buyer: await leg.balance('buyer') },
    cash: {
      seller: await balanceOf(net, CASH_TOKEN, addressOf(net, 'seller')),
      buyer: await balanceOf(net, CASH_TOKEN, addressOf(net, 'buyer')),
    },
  };
}

/** Both sides instruct (retrying through a crash) and both reach a final status; both must be settled, with exact movements. */
async function settle(tradeId: string, entry?: MatrixEntry): Promise<void> {
  const before = await holdings();
  await Promise.all(
    BANKS.map((b) => instructRetrying(gw[b], trader[b], instruction(b, tradeId), `${tradeId}-${b}`, 90_000)),
  );
  const ends: Record<Bank, string | undefined> = { seller: undefined, buyer: undefined };
  for (const deadline = Date.now() + 90_000; BANKS.some((b) => !FINAL.includes(ends[b] ?? '')); await sleep(100)) {
    for (const b of BANKS) ends[b] = await status(b, tradeId);
    if (Date.now() > deadline) {
      throw new Error(`${tradeId} (${entry?.party} at ${entry?.point}) not final: ${JSON.stringify(ends)}`);
    }
  }
  expect({ point: entry?.point, ...ends }).toEqual({ point: entry?.point, seller: 'settled', buyer: 'settled' });
  const after = await holdings();
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
  const ports = { seller: await freePort(), buyer: await freePort() };
  const settlement = {
    leader: 'seller' as const,
    leaderSeconds: 48,
    followerSeconds: 24,
    deltaSeconds: 12,
    pollIntervalMs: 200,
  };
  const make = (bank: Bank, other: Bank) =>
    new GatewayProcess({
      net,
      party: bank,
      dir: join(dir, bank),
      port: ports[bank],
      peerUrl: `https://127.0.0.1:${ports[other]}`,
      ...(leg.gatewayTokens && { securities: leg.gatewayTokens }),
      settlement,
    });
  gw = { seller: make('seller', 'buyer'), buyer: make('buyer', 'seller') };
  matrix = new CrashMatrix({ gw, startOrder: [BANKS], dir });
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
