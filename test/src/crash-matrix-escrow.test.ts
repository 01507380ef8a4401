/**
 * The orchestrated escrow's crash matrix (crash-matrix.ts) on the real ledgers: the two banks,
 * the escrow manager, the notary and the observer as processes (escrow-parties.ts), securities in
 * the chaincode on the Fabric peers, cash in the SettlementEscrow on anvil. A trade run without a
 * crash must pass exactly the points that matching and the mode declare for a settling trade;
 * then, for every point on each party that passes it, a trade whose party's gateway dies there
 * (kill -9 of itself), is restarted, and settles: both banks settled, the exact quantity and
 * amount moved once, both escrows empty; at the end the independent checker finds every trade of
 * the run at its end on both ledgers. Then a trade the notary refuses (above its limit): it passes
 * the deposits, every message and both returns; for each return point, a trade whose manager dies
 * there is restarted and both banks end failed with both deposits back. Δ 10 s, grace 5 s;
 * decision deadline 120 s after instructing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ESCROW_ORCHESTRATED_STEPS } from '../../gateway/src/settlement/escrow-orchestrated/protocol';
import { crashPointsOf } from '../../gateway/src/core/crash-points';
import { CrashMatrix, crashMatrixTests, instructRetrying, settlingPoints, type MatrixEntry } from './crash-matrix';
import {
  balanceDeltas,
  escrowBalances,
  escrowParties,
  expectedDeltas,
  FINAL_STATUSES,
  instructionOf,
  type EscrowParties,
} from './escrow-parties';
import { describeOnFabric } from './fabric';
import { sharedNetwork, BANK_CASH_SETUP_MS } from './network';
import { fundedInstrument, type FundedInstrument } from './securities-leg';
import { AGENT_PARTIES, BANKS, partyPem, sleep, type Bank } from './two-banks';

jest.setTimeout(1_200_000);

const QTY = 10n;
const PRICE = 100n;
/** Above the notary's limit (5,000). */
const BIG_PRICE = 1_000n;

describeOnFabric('orchestrated escrow: a crash at every point of every party', () => {
  const net = sharedNetwork();
  const dir = mkdtempSync(join(tmpdir(), 'dvp-crash-matrix-escrow-'));
  const trader = { seller: partyPem(net, 'seller', 'trader'), buyer: partyPem(net, 'buyer', 'trader') };
  let funded: FundedInstrument;
  let p: EscrowParties;
  let matrix: CrashMatrix;

  async function status(bank: Bank, tradeId: string): Promise<string | undefined> {
    return (await p.trade(bank, tradeId).catch(() => undefined))?.status;
  }

  /** Both banks instruct (retrying through a crash); both must end settled (or failed), with exact deltas. */
  async function trade(tradeId: string, entry: MatrixEntry | undefined, price: bigint, settled: boolean) {
    const { isin, leg } = funded;
    const before = await escrowBalances(net, leg);
    const deadline = Math.floor(Date.now() / 1000) + 120;
    const terms = { tradeId, isin, quantity: QTY, price, settlementDeadline: deadline };
    await Promise.all(
      BANKS.map((b) => instructRetrying(p.gw[b], trader[b], instructionOf(b, terms), `${tradeId}-${b}`, 90_000)),
    );
    const ends: Record<Bank, string | undefined> = { seller: undefined, buyer: undefined };
    const final = (b: Bank): boolean => FINAL_STATUSES.includes(ends[b] ?? '');
    for (const until = Date.now() + 150_000; !BANKS.every(final); await sleep(100)) {
      for (const b of BANKS) ends[b] = await status(b, tradeId);
      if (Date.now() > until) {
        throw new Error(
          `${tradeId} (${entry?.party} at ${entry?.point}) not final: ${JSON.stringify(ends)}\n${p.logs()}`,
        );
      }
    }
    const moved = balanceDeltas(before, await escrowBalances(net, leg));
    const end = settled ? 'settled' : 'failed';
    expect({ point: entry?.point, ...ends, moved }).toEqual({
      point: entry?.point,
      seller: end,
      buyer: end,
      moved: expectedDeltas(QTY, QTY * price, settled),
    });
  }

  beforeAll(async () => {
    funded = await fundedInstrument(net, `CE${Date.now() % 10_000_000}`, { securities: 10_000n, cash: 10_000_000n });
    p = await escrowParties({
      net,
      leg: funded.leg,
      dir,
      escrow: { deltaSeconds: 10, graceSeconds: 5, pollIntervalMs: 200 },
      notary: { decide: 'rule', maxAmount: '5000' },
    });
    matrix = new CrashMatrix({ gw: p.gw, startOrder: [AGENT_PARTIES, BANKS], dir });
    await matrix.startAll();
  }, BANK_CASH_SETUP_MS); // it may wait for another file holding the banks' cash

  afterAll(async () => {
    await matrix?.killAll();
    funded?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  crashMatrixTests({
    net,
    title: 'orchestrated escrow, settles',
    expected: settlingPoints(ESCROW_ORCHESTRATED_STEPS),
    prefix: 'CE',
    minCells: 83,
    matrix: () => matrix,
    isin: () => funded.isin,
    trade: (tradeId, entry) => trade(tradeId, entry, PRICE, true),
  });

  // Refused by the notary (above its limit): the manager aborts and returns both deposits.
  const refused = {
    ...ESCROW_ORCHESTRATED_STEPS,
    ledger: ESCROW_ORCHESTRATED_STEPS.ledger.filter((s) => s.kind === 'deposit' || s.kind === 'return'),
  };
  crashMatrixTests({
    net,
    title: 'orchestrated escrow, refused',
    expected: [...settlingPoints({ ledger: [], messages: {} }), ...crashPointsOf(refused)],
    cells: (e) => e.point.includes('.return:'),
    prefix: 'CX',
    minCells: 6,
    matrix: () => matrix,
    isin: () => funded.isin,
    trade: (tradeId, entry) => trade(tradeId, entry, BIG_PRICE, false),
  });
});
