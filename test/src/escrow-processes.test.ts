/**
 * The orchestrated escrow with its five parties as real gateway processes on the real ledgers
 * (escrow-parties.ts): the seller's and the buyer's banks, the escrow manager, the notary (rule:
 * at most 5,000 EUR cents) and the observer, securities in the chaincode on the Fabric peers,
 * cash in the SettlementEscrow on anvil. Covered: a trade the notary approves settles (exact
 * deltas, both escrows empty, the escrow steps with transactions on the banks' timelines, the
 * notary's approvals on both ledgers, the observer's records); one above the notary's limit is
 * refused and both deposits come back; the manager killed -9 once both deposits are verified, and
 * right after its commit is recorded, restarts on its database and the trade settles, nothing
 * moved twice. Δ 10 s, grace 5 s, decision deadline 90 s after instructing (never reached).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { ledgerProblems } from './checker';
import { describeOnFabric } from './fabric';
import { lockBankCash, sharedNetwork, BANK_CASH_SETUP_MS } from './network';
import { securitiesLeg, testIsin, type SecuritiesLeg } from './securities-leg';
import { addressOf, issue, partyPem } from './two-banks';
import {
  balanceDeltas,
  escrowBalances,
  expectedDeltas,
  startEscrowParties,
  tradeEscrows,
  type EscrowParties,
  type EscrowWire,
} from './escrow-parties';
import {
  approvalProblems,
  journaledActions,
  managedTrade,
  notaryApproval,
  observationProblems,
  observationVerificationProblems,
  observedEntries,
  whenRecorded,
} from './escrow-records';
import type { Address } from 'viem';

jest.setTimeout(120_000);

const run = `${process.pid}-${Date.now()}`;
const QTY = 10n;
const PRICE = 100n;
/** Above the notary's limit. */
const BIG_PRICE = 1_000n;

describeOnFabric('orchestrated escrow: banks, manager, notary and observer as processes', () => {
  const net = sharedNetwork();
  const isin = testIsin(`EP${Date.now() % 10_000_000}`);
  const dir = mkdtempSync(join(tmpdir(), 'dvp-escrow-processes-'));
  let leg: SecuritiesLeg;
  let p: EscrowParties;

  const terms = (tradeId: string, price = PRICE) => ({
    tradeId,
    isin,
    quantity: QTY,
    price,
    settlementDeadline: Math.floor(Date.now() / 1000) + 90,
  });

  let unlockCash: (() => void) | undefined;

  beforeAll(async () => {
    unlockCash = await lockBankCash(net);
    leg = await securitiesLeg(net, isin);
    await leg.issue('seller', 1_000n);
    await issue(net, net.evm.contracts['CashToken'] as Address, addressOf(net, 'buyer'), 1_000_000n);
    p = await startEscrowParties({
      net,
      leg,
      dir,
      escrow: { deltaSeconds: 10, graceSeconds: 5, pollIntervalMs: 200 },
      notary: { decide: 'rule', maxAmount: '5000' },
    });
  }, BANK_CASH_SETUP_MS); // it may wait for another file holding the banks' cash

  afterAll(async () => {
    await p?.kill();
    leg?.close();
    rmSync(dir, { recursive: true, force: true });
    unlockCash?.();
  });

  const events = (t: EscrowWire) => t.timeline.map((s) => s.event);
  const step = (t: EscrowWire, event: string) => t.timeline.find((s) => s.event === event);
  const count = (t: EscrowWire, event: string) => t.timeline.filter((s) => s.event === event).length;

  /** Both banks settled, both escrows empty, exact deltas, one decision each. */
  async function expectSettled(id: string, before: Awaited<ReturnType<typeof escrowBalances>>) {
    const { seller, buyer } = await p.final(id);
    expect([seller.status, buyer.status]).toEqual(['settled', 'settled']);
    expect(balanceDeltas(before, await escrowBalances(net, leg))).toEqual(expectedDeltas(QTY, QTY * PRICE, true));
    const escrows = await tradeEscrows(net, leg, { seller, buyer });
    expect(escrows).toMatchObject({
      securities: { state: 'released', remaining: 0n },
      cash: { state: 'released', remaining: 0n },
    });
    for (const t of [seller, buyer]) expect(count(t, 'escrow_decision')).toBe(1);
    return { seller, buyer, escrows };
  }

  it('settles a trade the notary approves: exact deltas, both escrows empty, every step with its transaction', async () => {
    const id = `ESC-OK-${run}`;
    const before = await escrowBalances(net, leg);
    await p.instruct(terms(id));
    const { seller, buyer, escrows } = await expectSettled(id, before);
    for (const t of [seller, buyer]) {
      expect(events(t)).toEqual(
        expect.arrayContaining([
          'matched',
          'escrow_registered',
          'escrow_instructed',
          'escrow_deposited',
          'escrow_decision',
          'escrow_released',
          'escrow_settled',
        ]),
      );
      expect(step(t, 'escrow_decision')?.detail).toMatchObject({ decision: 'commit' });
    }
    // The seller deposits securities on Fabric (bare hex tx ids), the buyer cash on the EVM (0x).
    expect(step(seller, 'escrow_deposited')).toMatchObject({
      leg: 'securities',
      ledger: 'fabric',
      txId: expect.stringMatching(/^[0-9a-f]{64}$/),
      block: expect.any(String),
    });
    expect(step(buyer, 'escrow_deposited')).toMatchObject({
      leg: 'cash',
      ledger: 'evm',
      txId: expect.stringMatching(/^0x[0-9a-f]{64}$/),
    });
    for (const t of [seller, buyer]) {
      const released = t.timeline.filter((s) => s.event === 'escrow_released');
      expect(released.map((s) => s.leg).sort()).toEqual(['cash', 'securities']);
      // The manager's releases, with their transactions (a bank waits for its followers' event).
      for (const s of released) {
        expect(s.detail?.['escrowId']).toEqual(expect.any(String));
        expect(s.txId).toEqual(expect.any(String));
      }
    }
    const escrowIds = { securities: escrows.securities.escrowId, cash: escrows.cash.escrowId };
    expect(managedTrade(p.gw.manager, id)).toMatchObject({ state: 'settled', decision: 'commit' });
    expect(approvalProblems(notaryApproval(p.gw.notary, id), { state: 'approved', escrows: escrowIds })).toEqual([]);
    // The same through the parties' operator APIs.
    const approval = await p.gw.notary.call(p.operator('notary'), 'GET', `/v1/approvals/${id}`);
    expect(approval.status).toBe(200);
    expect(approvalProblems(approval.json as never, { state: 'approved', escrows: escrowIds })).toEqual([]);
    const managed = await p.gw.manager.call(p.operator('manager'), 'GET', `/v1/escrow/trades/${id}`);
    expect(managed.json).toMatchObject({ state: 'settled', decision: { outcome: 'commit' } });
    await whenRecorded(
      () => observedEntries(p.gw.observer, id),
      (entries) => entries.filter((e) => e.step === 'released').length >= 2,
      () => undefined,
      20_000,
    );
    const want = {
      steps: ['registered', 'instructed', 'deposit_verified', 'notary_asked', 'notary_answered', 'decided', 'released'],
      decision: 'commit' as const,
      escrows: escrowIds,
    };
    expect(observationProblems(observedEntries(p.gw.observer, id), want)).toEqual([]);
    const auditor = partyPem(net, 'observer', 'auditor');
    const audit = await p.gw.observer.call(auditor, 'GET', `/v1/observations?tradeId=${id}&verifyLedgers=true`);
    expect(audit.status).toBe(200);
    const page = audit.json as { entries: never; verification: never };
    expect(observationProblems(page.entries, want)).toEqual([]);
    expect(observationVerificationProblems(page.verification)).toEqual([]);
    expect(page.verification).toMatchObject({ ledgers: { ok: true, checked: expect.any(Number) } });
  });

  it('aborts a trade above the notary’s limit: both failed, both deposits returned, balances unchanged', async () => {
    const id = `ESC-REFUSED-${run}`;
    const before = await escrowBalances(net, leg);
    await p.instruct(terms(id, BIG_PRICE));
    const { seller, buyer } = await p.final(id);
    expect([seller.status, seller.reason, buyer.status, buyer.reason]).toEqual([
      'failed',
      'escrow_aborted',
      'failed',
      'escrow_aborted',
    ]);
    expect(balanceDeltas(before, await escrowBalances(net, leg))).toEqual(expectedDeltas(QTY, QTY * BIG_PRICE, false));
    const escrows = await tradeEscrows(net, leg, { seller, buyer });
    expect(escrows).toMatchObject({
      securities: { state: 'returned', remaining: 0n },
      cash: { state: 'returned', remaining: 0n },
    });
    for (const t of [seller, buyer]) {
      expect(step(t, 'escrow_decision')?.detail).toMatchObject({ decision: 'abort' });
      expect(events(t)).toContain('escrow_returned');
      expect(events(t)).not.toContain('escrow_released');
    }
    expect(managedTrade(p.gw.manager, id)).toMatchObject({
      decision: 'abort',
      reason: expect.stringMatching(/^notary_refused: the amount 10000 exceeds the notary's limit 5000/),
    });
    const escrowIds = { securities: escrows.securities.escrowId, cash: escrows.cash.escrowId };
    expect(
      approvalProblems(notaryApproval(p.gw.notary, id), { state: 'refused', escrows: escrowIds, reason: /limit 5000/ }),
    ).toEqual([]);
  });

  it('settles after the manager is killed -9 once both deposits are verified, and restarted', async () => {
    const id = `ESC-KILL-VERIFIED-${run}`;
    const before = await escrowBalances(net, leg);
    const killed = whenRecorded(
      () => managedTrade(p.gw.manager, id),
      (t) => t.evidence['securitiesEscrow'] !== undefined && t.evidence['cashEscrow'] !== undefined,
      () => p.gw.manager.kill9(),
    );
    await p.instruct(terms(id));
    const seen = await killed;
    expect(seen.decision).toBeNull();
    await p.gw.manager.start();
    await expectSettled(id, before);
    expect(managedTrade(p.gw.manager, id)).toMatchObject({ state: 'settled', decision: 'commit' });
  });

  it('settles after the manager is killed -9 right after recording its commit, and restarted: nothing twice', async () => {
    const id = `ESC-KILL-DECIDED-${run}`;
    const before = await escrowBalances(net, leg);
    const killed = whenRecorded(
      () => managedTrade(p.gw.manager, id),
      (t) => t.decision === 'commit',
      () => p.gw.manager.kill9(),
    );
    await p.instruct(terms(id));
    const decided = await killed;
    await p.gw.manager.start();
    await expectSettled(id, before);
    // The decision was read back after the restart, never made again.
    expect(managedTrade(p.gw.manager, id)).toMatchObject({
      state: 'settled',
      decision: 'commit',
      decidedAt: decided.decidedAt,
    });
    // Each leg released once on the ledgers, by the manager's journal or a bank's, never by both.
    const releases = [p.gw.manager, p.gw.seller, p.gw.buyer].flatMap((g) =>
      journaledActions(g, id).filter((a) => a.kind === 'release' && a.state === 'done'),
    );
    expect(releases.map((a) => a.leg).sort()).toEqual(['cash', 'securities']);
  });

  it('leaves both ledgers consistent, as the independent checker reads them: every trade of the ISIN at its end, atomically', async () => {
    const cashToken = net.evm.contracts['CashToken'] as string;
    expect(await ledgerProblems(net, { isins: [isin], cashToken })).toEqual([]);
  });
});
