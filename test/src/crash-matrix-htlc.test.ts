/**
 * The HTLC crash matrix (crash-matrix.ts) on the real ledgers: the seller's and the buyer's
 * gateways as processes, securities on the Fabric peers (or the EVM stand-in), cash on anvil.
 *
 * A trade that settles (T_L 48 s, T_F 24 s, Δ 12 s): run once without a crash, it must pass
 * exactly the points matching and the HTLC mode declare for a settling trade; then, for every
 * point on the side that passes it, a trade whose gateway dies there (kill -9 of itself), is
 * restarted, and settles, the exact quantity and amount moved once on each ledger.
 *
 * A trade that fails (T_L 20 s, T_F 10 s, Δ 5 s; the leader is frozen before it can claim, as in
 * two-gateways.test.ts, and let go once the follower has refunded): it passes the locks and both
 * refunds; for each refund point, a trade whose refunding gateway dies there is restarted and
 * both sides end failed with nothing moved. Each part ends with the independent checker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crashPointsOf } from '../../gateway/src/core/crash-points';
import { HTLC_STEPS } from '../../gateway/src/settlement/htlc/progress';
import { CrashMatrix, crashMatrixTests, instructRetrying, settlingPoints, type MatrixEntry } from './crash-matrix';
import { freezeLeaderBeforeItCanClaim } from './crash-points';
import { FINAL, htlcBanks, type HtlcBanks } from './htlc-banks';
import { BANK_CASH_SETUP_MS, sharedNetwork } from './network';
import { fundedInstrument, type FundedInstrument } from './securities-leg';
import { addressOf, BANKS, sleep, type Bank } from './two-banks';

jest.setTimeout(900_000);

const net = sharedNetwork();
const QTY = 10n;
const PRICE = 1_500n;
const dir = mkdtempSync(join(tmpdir(), 'dvp-crash-matrix-htlc-'));
let funded: FundedInstrument;

beforeAll(async () => {
  funded = await fundedInstrument(net, `CM${Date.now() % 10_000_000}`, { securities: 10_000n, cash: 10_000_000n });
}, BANK_CASH_SETUP_MS); // it may wait for another file holding the banks' cash

afterAll(() => {
  funded?.release();
  rmSync(dir, { recursive: true, force: true });
});

/** Polls both banks until both are final; the last statuses seen. */
async function bothFinal(banks: HtlcBanks, tradeId: string, entry?: MatrixEntry, ms = 90_000) {
  const ends: Record<Bank, string | undefined> = { seller: undefined, buyer: undefined };
  for (const deadline = Date.now() + ms; BANKS.some((b) => !FINAL.includes(ends[b] ?? '')); await sleep(100)) {
    for (const b of BANKS) ends[b] = await banks.status(b, tradeId);
    if (Date.now() > deadline) {
      throw new Error(`${tradeId} (${entry?.party} at ${entry?.point}) not final: ${JSON.stringify(ends)}`);
    }
  }
  return ends;
}

/** Both sides instruct (retrying through a crash); `settle` runs until both are final. */
async function traded(banks: HtlcBanks, tradeId: string, entry: MatrixEntry | undefined, run: () => Promise<unknown>) {
  const before = await banks.holdings();
  await Promise.all(
    BANKS.map((b) =>
      instructRetrying(banks.gw[b], banks.trader[b], banks.instruction(b, tradeId), `${tradeId}-${b}`, 90_000),
    ),
  );
  const ends = await run();
  const after = await banks.holdings();
  return {
    point: entry?.point,
    ends,
    moved: [after.sec.buyer - before.sec.buyer, before.sec.seller - after.sec.seller],
    paid: [after.cash.seller - before.cash.seller, before.cash.buyer - after.cash.buyer],
  };
}

/** A pair of bank gateways with `settlement` for one describe, and its matrix. */
function pairFor(name: string, settlement?: Parameters<typeof htlcBanks>[0]['settlement']) {
  const pair: { banks?: HtlcBanks; matrix?: CrashMatrix } = {};
  beforeAll(async () => {
    const { isin, leg } = funded;
    const where = join(dir, name);
    const banks = await htlcBanks({
      net,
      leg,
      isin,
      quantity: QTY,
      price: PRICE,
      dir: where,
      ...(settlement && { settlement }),
    });
    pair.banks = banks;
    pair.matrix = new CrashMatrix({ gw: banks.gw, startOrder: [BANKS], dir: where });
    await pair.matrix.startAll();
  });
  afterAll(async () => pair.matrix?.killAll());
  return { banks: () => pair.banks as HtlcBanks, matrix: () => pair.matrix as CrashMatrix };
}

describe('a trade that settles', () => {
  const pair = pairFor('settles');
  crashMatrixTests({
    net,
    title: 'HTLC, settles',
    expected: settlingPoints(HTLC_STEPS),
    prefix: 'CM',
    minCells: 47,
    matrix: pair.matrix,
    isin: () => funded.isin,
    trade: async (tradeId, entry) => {
      const result = await traded(pair.banks(), tradeId, entry, () => bothFinal(pair.banks(), tradeId, entry));
      expect(result).toEqual({
        point: entry?.point,
        ends: { seller: 'settled', buyer: 'settled' },
        moved: [QTY, QTY],
        paid: [QTY * PRICE, QTY * PRICE],
      });
    },
  });
});

describe('a trade that fails', () => {
  const pair = pairFor('fails', {
    leader: 'seller',
    leaderSeconds: 20,
    followerSeconds: 10,
    deltaSeconds: 5,
    pollIntervalMs: 200,
  });
  const refund = (p: string): boolean => p.includes('.refund:');
  const lockAndRefund = HTLC_STEPS.ledger.filter((s) => s.kind !== 'claim');
  const expected = [
    ...settlingPoints({ ledger: [], messages: {} }),
    ...crashPointsOf({ ledger: lockAndRefund, messages: { lock_notice: {} } }),
  ];

  /** The leader frozen before it can claim; let go once the follower is final. */
  async function fails(banks: HtlcBanks, tradeId: string, entry?: MatrixEntry) {
    const frozen = freezeLeaderBeforeItCanClaim(net, banks.gw.seller, addressOf(net, 'buyer'));
    return traded(banks, tradeId, entry, async () => {
      try {
        await frozen;
        for (const deadline = Date.now() + 90_000; !FINAL.includes((await banks.status('buyer', tradeId)) ?? '');) {
          if (Date.now() > deadline) throw new Error(`${tradeId}: the buyer did not refund`);
          await sleep(200);
        }
      } finally {
        banks.gw.seller.resume();
      }
      return bothFinal(banks, tradeId, entry);
    });
  }

  crashMatrixTests({
    net,
    title: 'HTLC, fails',
    expected,
    cells: (e) => refund(e.point),
    prefix: 'CF',
    minCells: 6,
    matrix: pair.matrix,
    isin: () => funded.isin,
    trade: async (tradeId, entry) => {
      expect(await fails(pair.banks(), tradeId, entry)).toEqual({
        point: entry?.point,
        ends: { seller: 'failed', buyer: 'failed' },
        moved: [0n, 0n],
        paid: [0n, 0n],
      });
    },
  });
});
