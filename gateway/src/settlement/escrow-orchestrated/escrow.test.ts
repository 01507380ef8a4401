/**
 * The orchestrated escrow on in-memory ledgers: banks, manager and notary as separate parties on
 * their own databases (__tests__/world.ts). Commit, the notary's approval and refusal, wrong and
 * missing deposits, deadlines, and forged decisions.
 */
import { actorOf } from '../../../testing/engine-fakes';
import { ManagerRecords } from '../../store/escrow-manager';
import { AMOUNT, CASH, EscrowWorld, GRACE, QTY, SHARES } from './__tests__/world';

const settledBalances = {
  sellerShares: SHARES - QTY,
  buyerShares: QTY,
  buyerCash: CASH - AMOUNT,
  sellerCash: AMOUNT,
};
const untouched = { sellerShares: SHARES, buyerShares: 0n, buyerCash: CASH, sellerCash: 0n };

describe('orchestrated escrow (in memory)', () => {
  let w: EscrowWorld;
  afterEach(async () => {
    await w.close();
  });

  it('commits: both legs delivered, both escrows empty, the observer has every step', async () => {
    w = new EscrowWorld();
    await w.trade('T-1', { manager: 'MANAGER', observer: 'OBSERVER' });
    const { BUYER, SELLER } = await w.final('T-1');
    expect([BUYER.status, SELLER.status]).toEqual(['settled', 'settled']);
    expect(w.balances()).toEqual(settledBalances);
    w.expectConserved();
    w.expectEscrowsEmpty();
    expect(w.manager!.service.get('T-1')).toMatchObject({ state: 'settled', decision: 'commit' });
    await w.until(() => w.records.filter((r) => r.step === 'released').length === 2, 'two release records');
    const steps = new Set(w.records.map((r) => r.step));
    expect([...steps]).toEqual(
      expect.arrayContaining(['registered', 'instructed', 'deposited', 'deposit_verified', 'decided', 'released']),
    );
    // Each bank records its own deposit, with its transaction.
    await w.until(() => w.records.filter((r) => r.step === 'deposited').length === 2, 'two deposit records');
    const deposits = w.records.filter((r) => r.step === 'deposited');
    expect(deposits.map((r) => [r.from, r.leg, r.state]).sort()).toEqual([
      ['BUYER', 'cash', 'held'],
      ['SELLER', 'securities', 'held'],
    ]);
    for (const r of deposits) expect(r.txId).toEqual(expect.any(String));
    // Each bank's timeline names the leg and ledger of its deposit, with the transaction.
    expect(SELLER.timeline.find((s) => s.event === 'escrow_deposited')).toMatchObject({
      leg: 'securities',
      ledger: 'fabric',
      txId: expect.any(String),
    });
    expect(BUYER.timeline.find((s) => s.event === 'escrow_deposited')).toMatchObject({ leg: 'cash', ledger: 'evm' });
    // The decision names its evidence: the two deposits the manager verified.
    const deposited = (t: typeof SELLER) =>
      t.timeline.find((s) => s.event === 'escrow_deposited')?.detail?.['escrowId'];
    for (const t of [BUYER, SELLER]) {
      expect(t.timeline.find((s) => s.event === 'escrow_decision')?.detail).toMatchObject({
        decision: 'commit',
        securitiesEscrow: deposited(SELLER),
        cashEscrow: deposited(BUYER),
      });
    }
    // The manager's releases are on both banks' timelines with their transactions (from the ledgers' events).
    for (const t of [BUYER, SELLER]) {
      const released = t.timeline.filter((s) => s.event === 'escrow_released');
      expect(released.map((s) => [s.leg, s.ledger]).sort()).toEqual([
        ['cash', 'evm'],
        ['securities', 'fabric'],
      ]);
      for (const s of released) expect(s).toMatchObject({ txId: expect.any(String), block: expect.any(String) });
    }
    // The manager released both legs; nobody released twice.
    expect(w.fabric.count('release') + w.evm.count('release')).toBe(2);
    for (const b of ['BUYER', 'SELLER'] as const) {
      expect((await w.bank(b).engine.audit({})).verification.ok).toBe(true);
    }
  });

  it('with a notary: approved on both ledgers, then settled', async () => {
    w = new EscrowWorld();
    await w.trade('T-2', { manager: 'MANAGER', notary: 'NOTARY' });
    const { BUYER, SELLER } = await w.final('T-2');
    expect([BUYER.status, SELLER.status]).toEqual(['settled', 'settled']);
    expect(w.balances()).toEqual(settledBalances);
    const approval = w.notary!.service.get('T-2');
    expect(approval).toMatchObject({ state: 'approved', decidedBy: 'rule' });
    expect(approval.approvals['securities']).toMatch(/^onledger:/);
    expect(approval.approvals['cash']).toMatch(/^0x[0-9a-f]{64}$/);
    expect(w.fabric.count('approve')).toBe(1);
    w.expectConserved();
  });

  it('the notary refuses (deny-list): abort, both deposits returned', async () => {
    w = new EscrowWorld({ decide: 'rule', denyParties: ['BUYER'] });
    await w.trade('T-3', { manager: 'MANAGER', notary: 'NOTARY', observer: 'OBSERVER' });
    const { BUYER, SELLER } = await w.final('T-3');
    expect([BUYER.status, SELLER.status]).toEqual(['failed', 'failed']);
    expect(BUYER.reason).toBe('escrow_aborted');
    expect(w.balances()).toEqual(untouched);
    expect(w.manager!.service.get('T-3')).toMatchObject({
      decision: 'abort',
      reason: expect.stringMatching(/notary_refused/),
    });
    w.expectEscrowsEmpty();
    w.expectConserved();
  });

  it('the notary never answers: abort at the decision deadline', async () => {
    w = new EscrowWorld({ decide: 'operator', denyParties: [] });
    await w.trade('T-4', { manager: 'MANAGER', notary: 'NOTARY' });
    await w.until(() => w.notary!.service.list({ state: 'pending' }).length === 1, 'a pending approval');
    expect(w.manager!.service.get('T-4').state).toBe('approving');
    w.t += 301;
    const { BUYER, SELLER } = await w.final('T-4');
    expect([BUYER.status, SELLER.status]).toEqual(['failed', 'failed']);
    expect(w.manager!.service.get('T-4').reason).toMatch(/deadline: the notary did not answer/);
    expect(w.balances()).toEqual(untouched);
    w.expectEscrowsEmpty();
  });

  it("the notary's operator approves through its service", async () => {
    w = new EscrowWorld({ decide: 'operator', denyParties: [] });
    await w.trade('T-5', { manager: 'MANAGER', notary: 'NOTARY' });
    await w.until(() => w.notary!.service.list({ state: 'pending' }).length === 1, 'a pending approval');
    await w.notary!.service.approve(actorOf('NOTARY'), 'T-5');
    await expect(w.notary!.service.refuse(actorOf('NOTARY'), 'T-5', 'late')).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    });
    const { BUYER } = await w.final('T-5');
    expect(BUYER.status).toBe('settled');
  });

  it('the manager cancels before deciding: abort, deposits returned; once decided it cannot', async () => {
    w = new EscrowWorld({ decide: 'operator', denyParties: [] });
    await w.trade('T-6', { manager: 'MANAGER', notary: 'NOTARY' });
    await w.until(() => w.manager!.service.get('T-6').state === 'approving', 'both deposits verified');
    await w.manager!.service.cancel(actorOf('MANAGER'), 'T-6');
    await expect(w.manager!.service.cancel(actorOf('MANAGER'), 'T-6')).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    });
    const { SELLER } = await w.final('T-6');
    expect(SELLER.status).toBe('failed');
    expect(w.balances()).toEqual(untouched);
  });

  it('the manager stops for good after its first release: the banks release the other leg with the secret seen on its ledger', async () => {
    w = new EscrowWorld();
    await w.killManagerBeforeRelease('evm');
    await w.trade('T-7', { manager: 'MANAGER', observer: 'OBSERVER' });
    const decision = await w.decisionAt('BUYER', 'T-7');
    expect(decision['secret']).toBeUndefined(); // the decision never carries the secret
    w.t += GRACE;
    const { BUYER, SELLER } = await w.final('T-7');
    expect([BUYER.status, SELLER.status]).toEqual(['settled', 'settled']);
    expect(w.balances()).toEqual(settledBalances);
    w.expectEscrowsEmpty();
    for (const t of [BUYER, SELLER]) {
      expect(t.timeline.filter((s) => s.event === 'escrow_secret_seen')).toHaveLength(1);
      const released = t.timeline.filter((s) => s.event === 'escrow_released');
      expect(released).toHaveLength(2);
      for (const s of released) expect(s).toMatchObject({ txId: expect.any(String) });
    }
    // The observer learns of the cash release from the bank that made it.
    const fromBanks = () => w.records.filter((r) => r.step === 'released' && r.from !== 'MANAGER');
    await w.until(() => fromBanks().length === 1, 'a release record from a bank');
    expect(fromBanks()[0]?.leg).toBe('cash');
  });

  it('the manager stops for good after deciding commit, before any release: nobody has the secret, both deposits come back at expiry', async () => {
    w = new EscrowWorld();
    await w.killManagerBeforeRelease('fabric');
    await w.trade('T-7b', { manager: 'MANAGER', observer: 'OBSERVER' });
    await w.decisionAt('BUYER', 'T-7b');
    w.t += 300 + 600;
    const { BUYER, SELLER } = await w.final('T-7b');
    expect([BUYER.reason, SELLER.reason]).toEqual(['escrow_expired', 'escrow_expired']);
    expect(w.balances()).toEqual(untouched);
    w.expectEscrowsEmpty();
  });

  it('the manager stops for good before deciding: both depositors take their deposits back at expiry', async () => {
    w = new EscrowWorld({ decide: 'operator', denyParties: [] });
    await w.trade('T-8', { manager: 'MANAGER', notary: 'NOTARY' });
    await w.until(() => w.manager!.service.get('T-8').state === 'approving', 'both deposits verified');
    await w.stop('MANAGER');
    w.t += 300 + 600;
    const { BUYER, SELLER } = await w.final('T-8');
    expect([BUYER.reason, SELLER.reason]).toEqual(['escrow_expired', 'escrow_expired']);
    expect(w.balances()).toEqual(untouched);
    w.expectEscrowsEmpty();
  });

  it('refuses a forged decision: another signer, another trade, a wrong secret', async () => {
    w = new EscrowWorld({ decide: 'operator', denyParties: [] });
    await w.trade('T-9', { manager: 'MANAGER', notary: 'NOTARY' });
    await w.until(() => w.manager!.service.get('T-9').state === 'approving', 'both deposits verified');
    const t = w.manager!.service.get('T-9');
    const forged = { termsHash: t.termsHash, decision: 'commit', secret: `0x${'11'.repeat(32)}` };
    await w.messenger('NOTARY').send('BUYER', { tradeId: 'T-9', type: 'decision', body: forged });
    await w.messenger('MANAGER').send('BUYER', { tradeId: 'T-9', type: 'decision', body: forged });
    const other = { ...forged, termsHash: 'ab'.repeat(32) };
    await w.messenger('MANAGER').send('SELLER', { tradeId: 'T-9', type: 'decision', body: other });
    const buyer = await w.status('BUYER', 'T-9');
    expect(buyer.timeline.some((s) => s.event === 'escrow_decision')).toBe(false);
    expect(buyer.timeline.filter((s) => s.event === 'decision_refused')).toHaveLength(1);
    expect((await w.status('SELLER', 'T-9')).timeline.some((s) => s.event === 'decision_refused')).toBe(true);
    // A wrong secret cannot open the escrows either.
    await expect(
      w.fabric.connector('buyer@fabric').releaseWithPreimage(t.evidence['securitiesEscrow']!, QTY, forged.secret),
    ).rejects.toMatchObject({ code: 'BAD_PREIMAGE' });
    await w.notary!.service.approve(actorOf('NOTARY'), 'T-9');
    expect((await w.final('T-9')).BUYER.status).toBe('settled');
  });

  it('the manager keeps the deposit tx each depositor reports, and shows its releases without the secret', async () => {
    w = new EscrowWorld();
    await w.trade('T-10', { manager: 'MANAGER' });
    const { SELLER, BUYER } = await w.final('T-10');
    const txOf = (t: typeof SELLER) => t.timeline.find((s) => s.event === 'escrow_deposited')?.txId;
    const manager = w.manager!.service;
    expect(manager.get('T-10').evidence).toMatchObject({
      securitiesDepositTx: txOf(SELLER),
      cashDepositTx: txOf(BUYER),
    });
    // A notice from the bank that does not deposit that leg, or a second one, changes nothing.
    const forged = { leg: 'securities', escrowId: 'x', txId: 'forged' };
    await w.messenger('BUYER').send('MANAGER', { tradeId: 'T-10', type: 'deposited', body: forged });
    await w.messenger('SELLER').send('MANAGER', { tradeId: 'T-10', type: 'deposited', body: forged });
    expect(manager.get('T-10').evidence['securitiesDepositTx']).toBe(txOf(SELLER));
    const actions = manager.ledgerActions('T-10');
    expect(actions.map((a) => [a.leg, a.ledger, a.kind, a.state]).sort()).toEqual([
      ['cash', 'evm', 'release', 'done'],
      ['securities', 'fabric', 'release', 'done'],
    ]);
    const secret = new ManagerRecords(w.manager!.store.db, 'MANAGER').secret('T-10')!.replace(/^0x/, '');
    expect(JSON.stringify(actions).toLowerCase()).not.toContain(secret.toLowerCase());
    expect(() => manager.ledgerActions('T-404')).toThrow(expect.objectContaining({ code: 'TRADE_NOT_FOUND' }));
  });

  it('20 concurrent trades settle', async () => {
    w = new EscrowWorld();
    w.fabric.mint('seller@fabric', `sec:US0378331005`, 0n);
    const ids = Array.from({ length: 20 }, (_, i) => `C-${i}`);
    await Promise.all(ids.map((id) => w.trade(id, { manager: 'MANAGER' }, { quantity: 1n, price: 10n })));
    for (const id of ids) expect((await w.final(id, 20_000)).SELLER.status).toBe('settled');
    expect(w.balances()).toEqual({
      sellerShares: SHARES - 20n,
      buyerShares: 20n,
      buyerCash: CASH - 200n,
      sellerCash: 200n,
    });
    w.expectConserved();
  });
});
