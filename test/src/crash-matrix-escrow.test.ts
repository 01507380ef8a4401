/**
 * The orchestrated escrow's crash matrix (crash-matrix.ts) on the real ledgers: the two banks,
 * the escrow manager, the notary and the observer as processes (escrow-parties.ts), securities in
 * the chaincode on the Fabric peers, cash in the SettlementEscrow on anvil. A trade run without a
 * crash must pass exactly the points that matching and the mode declare for a settling trade;
 * then, for every point on each party that passes it, a trade whose party's gateway dies there
 * (kill -9 of itself), is restarted, and settles: both banks settled, the exact quantity and
 * amount moved once, both escrows empty; at the end the independent checker finds every trade of
 * the run at its end on both ledgers. Δ 10 s, grace 5 s; decision deadline 120 s after instructing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address } from 'viem';
import { crashPointsOf } from '../../gateway/src/core/crash-points';
import { ESCROW_ORCHESTRATED_STEPS } from '../../gateway/src/settlement/escrow-orchestrated/protocol';
import { MATCHING_STEPS } from '../../gateway/src/trades/matching';
import { ledgerProblems } from './checker';
import { CrashMatrix, instructRetrying, onlyRequested, type MatrixEntry } from './crash-matrix';
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
import { lockBankCash, sharedNetwork } from './network';
import { securitiesLeg, testIsin, type SecuritiesLeg } from './securities-leg';
import { addressOf, AGENT_PARTIES, BANKS, issue, partyPem, sleep, type Bank } from './two-banks';

jest.setTimeout(1_200_000);

const QTY = 10n;
const PRICE = 100n;

describeOnFabric('orchestrated escrow: a crash at every point of every party', () => {
  const net = sharedNetwork();
  const isin = testIsin(`CE${Date.now() % 10_000_000}`);
  const run = `${process.pid}-${Date.now()}`;
  const dir = mkdtempSync(join(tmpdir(), 'dvp-crash-matrix-escrow-'));
  const trader = { seller: partyPem(net, 'seller', 'trader'), buyer: partyPem(net, 'buyer', 'trader') };
  let leg: SecuritiesLeg;
  let p: EscrowParties;
  let matrix: CrashMatrix;
  let unlockCash: (() => void) | undefined;

  async function status(bank: Bank, tradeId: string): Promise<string | undefined> {
    const res = await p.gw[bank].call(trader[bank], 'GET', `/v1/trades/${tradeId}`).catch(() => undefined);
    return res?.status === 200 ? (res.json['status'] as string) : undefined;
  }

  /** Both banks instruct (retrying through a crash); both must end settled, with exact deltas. */
  async function settle(tradeId: string, entry?: MatrixEntry): Promise<void> {
    const before = await escrowBalances(net, leg);
    const terms = {
      tradeId,
      isin,
      quantity: QTY,
      price: PRICE,
      settlementDeadline: Math.floor(Date.now() / 1000) + 120,
    };
    await Promise.all(
      BANKS.map((b) => instructRetrying(p.gw[b], trader[b], instructionOf(b, terms), `${tradeId}-${b}`, 90_000)),
    );
    const ends: Record<Bank, string | undefined> = { seller: undefined, buyer: undefined };
    const final = (b: Bank): boolean => FINAL_STATUSES.includes(ends[b] ?? '');
    for (const deadline = Date.now() + 150_000; !BANKS.every(final); await sleep(100)) {
      for (const b of BANKS) ends[b] = await status(b, tradeId);
      if (Date.now() > deadline) {
        throw new Error(
          `${tradeId} (${entry?.party} at ${entry?.point}) not final: ${JSON.stringify(ends)}\n${p.logs()}`,
        );
      }
    }
    expect({ point: entry?.point, ...ends }).toEqual({ point: entry?.point, seller: 'settled', buyer: 'settled' });
    const moved = balanceDeltas(before, await escrowBalances(net, leg));
    expect({ point: entry?.point, moved }).toEqual({
      point: entry?.point,
      moved: expectedDeltas(QTY, QTY * PRICE, true),
    });
  }

  beforeAll(async () => {
    unlockCash = await lockBankCash(net);
    leg = await securitiesLeg(net, isin);
    await leg.issue('seller', 10_000n);
    await issue(net, net.evm.contracts['CashToken'] as Address, addressOf(net, 'buyer'), 10_000_000n);
    p = await escrowParties({
      net,
      leg,
      dir,
      escrow: { deltaSeconds: 10, graceSeconds: 5, pollIntervalMs: 200 },
      notary: { decide: 'rule', maxAmount: '5000' },
    });
    matrix = new CrashMatrix({ gw: p.gw, startOrder: [AGENT_PARTIES, BANKS], dir });
    await matrix.startAll();
  }, 660_000); // it may wait for another file holding the banks' cash

  afterAll(async () => {
    await matrix?.killAll();
    leg?.close();
    rmSync(dir, { recursive: true, force: true });
    unlockCash?.();
  });

  let entries: MatrixEntry[] = [];

  it('a trade that settles passes exactly the crash points matching and the orchestrated escrow declare', async () => {
    const id = `CE-CLEAN-${run}`;
    await settle(id);
    entries = matrix.passed(id);
    const declared = [...crashPointsOf(MATCHING_STEPS, true), ...crashPointsOf(ESCROW_ORCHESTRATED_STEPS, true)];
    expect([...new Set(entries.map((e) => e.point))].sort()).toEqual([...declared].sort());
  });

  it('settles exactly once after a party’s gateway is killed -9 at every point it passes, and restarted', async () => {
    expect(entries.length).toBeGreaterThan(50);
    const cells = onlyRequested(entries);
    const runs = await matrix.run(cells, (i) => `CE-${i}-${run}`, settle);
    expect(runs.map((r) => `${r.party} ${r.point}`)).toEqual(cells.map((e) => `${e.party} ${e.point}`));
    const slowest = [...runs].sort((a, b) => b.ms - a.ms)[0];
    process.stdout.write(
      `escrow crash matrix: ${runs.length} points; slowest ${slowest?.party} ${slowest?.point} ${slowest?.ms} ms\n`,
    );
  });

  it('leaves both ledgers consistent, as the independent checker reads them', async () => {
    const cashToken = net.evm.contracts['CashToken'] as Address;
    expect(await ledgerProblems(net, { isins: [isin], cashToken })).toEqual([]);
  });
});
