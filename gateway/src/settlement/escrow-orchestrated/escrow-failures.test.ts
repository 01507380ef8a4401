/**
 * The orchestrated escrow when things go wrong, on in-memory ledgers: a wrong or missing deposit,
 * the manager killed at each point of carrying out its decision and restarted, a bank killed
 * after its deposit. Every trade ends the same way on both banks, nothing moves twice, and both
 * ledgers conserve what was issued.
 */
import { actorOf } from '../../../testing/engine-fakes';
import type { Crash } from '../htlc/__tests__/memory-htlc';
import { AMOUNT, CASH, DELTA, EscrowWorld, EUR, QTY, SEC, SHARES } from './__tests__/world';

const settled = { sellerShares: SHARES - QTY, buyerShares: QTY, buyerCash: CASH - AMOUNT, sellerCash: AMOUNT };
const untouched = { sellerShares: SHARES, buyerShares: 0n, buyerCash: CASH, sellerCash: 0n };

describe('orchestrated escrow failures (in memory)', () => {
  let w: EscrowWorld;
  afterEach(async () => {
    await w.close();
  });

  it.each([
    ['amount', { amount: 1n }, /amount is 1\b/],
    ['beneficiary', { beneficiary: 'seller@fabric' }, /beneficiary is seller@fabric/],
    ['a too-short expiry', { expiry: 1_700_000_100 }, /expiry is 1700000100/],
  ])(
    'a deposit with the wrong %s is refused by the manager: abort, everything returned',
    async (_what, wrong, reason) => {
      w = new EscrowWorld();
      // The seller's escrow for the trade already exists, made wrong (a careless operator).
      await w.fabric.connector('seller@fabric').deposit({
        tradeId: 'F-1',
        asset: SEC,
        amount: QTY,
        beneficiary: 'buyer@fabric',
        controller: 'manager@fabric',
        expiry: w.t + 10_000,
        hashlock: `0x${'00'.repeat(32)}`,
        ...wrong,
      });
      await w.trade('F-1');
      const { BUYER, SELLER } = await w.final('F-1');
      expect([BUYER.status, SELLER.status]).toEqual(['failed', 'failed']);
      const refused = w.manager!.service.get('F-1').reason;
      expect(refused).toMatch(/deposit_wrong: securities /);
      expect(refused).toMatch(reason);
      await w.until(() => w.balances()['sellerShares'] === SHARES && w.balances()['buyerCash'] === CASH, 'returns');
      expect(w.balances()).toEqual(untouched);
      w.expectConserved();
    },
  );

  it('a deposit naming another controller is refused: abort; the manager leaves it to its depositor', async () => {
    w = new EscrowWorld();
    const seller = w.fabric.connector('seller@fabric');
    await seller.deposit({
      tradeId: 'F-5',
      asset: SEC,
      amount: QTY,
      beneficiary: 'buyer@fabric',
      controller: 'seller@fabric',
      expiry: w.t + 10_000,
      hashlock: `0x${'00'.repeat(32)}`,
    });
    await w.trade('F-5');
    const { BUYER, SELLER } = await w.final('F-5');
    expect([BUYER.status, SELLER.status]).toEqual(['failed', 'failed']);
    expect(w.manager!.service.get('F-5').reason).toMatch(/deposit_wrong: securities .*controller is seller@fabric/);
    await w.until(() => w.balances()['buyerCash'] === CASH, 'the cash returned');
    // Not the manager's to return: it tries nothing, and ends the abort once the escrows expired.
    expect(w.fabric.count('return')).toBe(0);
    w.t += 100_000;
    await w.until(() => w.manager!.service.get('F-5').state === 'aborted', 'the abort ended');
    await seller.returnEscrow(seller.escrowIdOf('F-5', 'seller@fabric'));
    expect(w.balances()).toEqual(untouched);
    w.expectConserved();
  });

  it('a deposit that never comes: abort at the decision deadline, the other deposit returned', async () => {
    w = new EscrowWorld();
    // The buyer has no cash to deposit.
    w.evm.mint('buyer@evm', EUR, -CASH);
    await w.trade('F-2');
    await w.until(() => w.manager!.service.get('F-2').evidence['securitiesEscrow'] !== undefined, 'seller deposit');
    w.t += 301;
    const { BUYER, SELLER } = await w.final('F-2');
    expect(BUYER.reason).toMatch(/^escrow_(aborted|not_deposited)$/);
    expect(SELLER.reason).toBe('escrow_aborted');
    expect(w.manager!.service.get('F-2').reason).toMatch(/deadline: no cash deposit/);
    await w.until(() => w.balances()['sellerShares'] === SHARES, 'the securities returned');
    w.expectEscrowsEmpty();
  });

  const points: Crash['point'][] = ['before-prepare', 'after-prepare', 'after-broadcast'];
  for (const point of points) {
    for (const ledger of ['fabric', 'evm'] as const) {
      it(`the manager is killed ${point} of its ${ledger} release and restarted: settled, nothing twice`, async () => {
        w = new EscrowWorld();
        w[ledger].crash = { signer: `manager@${ledger}`, kind: 'release', point, then: () => void w.stop('MANAGER') };
        await w.trade(`K-${point}-${ledger}`);
        await w.until(() => w.manager === undefined, 'the manager killed');
        await w.restart('MANAGER');
        const { BUYER, SELLER } = await w.final(`K-${point}-${ledger}`);
        expect([BUYER.status, SELLER.status]).toEqual(['settled', 'settled']);
        expect(w.balances()).toEqual(settled);
        expect(w.fabric.count('release') + w.evm.count('release')).toBe(2);
        expect(w.manager!.service.get(`K-${point}-${ledger}`).state).toBe('settled');
        w.expectConserved();
      });
    }
  }

  it('the manager is killed with both deposits seen, before deciding, and restarted', async () => {
    w = new EscrowWorld({ decide: 'operator', denyParties: [] });
    await w.trade('K-2', { manager: 'MANAGER', notary: 'NOTARY' });
    await w.until(() => w.manager!.service.get('K-2').state === 'approving', 'both deposits verified');
    await w.stop('MANAGER');
    await w.notary!.service.approve(actorOf('NOTARY'), 'K-2');
    await w.restart('MANAGER');
    const { BUYER } = await w.final('K-2');
    expect(BUYER.status).toBe('settled');
    expect(w.balances()).toEqual(settled);
  });

  it('a manager back only after the reveal margin releases nothing: both deposits come back at expiry', async () => {
    w = new EscrowWorld();
    await w.killManagerBeforeRelease('fabric');
    await w.trade('K-5');
    await w.until(() => w.manager === undefined, 'the manager killed before its first release');
    w.fabric.crash = undefined;
    w.t += 300 + DELTA / 2; // past the decision deadline plus half of Δ
    await w.restart('MANAGER');
    await w
      .until(() => w.manager!.service.get('K-5').state !== 'decided', 'the manager gave up releasing', 2000)
      .catch(() => undefined);
    // Nothing released (the secret stays unknown); both deposits still held until their expiry.
    expect(w.balances()).toMatchObject({ buyerShares: 0n, sellerCash: 0n });
    w.t += DELTA;
    const { BUYER, SELLER } = await w.final('K-5');
    expect([BUYER.reason, SELLER.reason]).toEqual(['escrow_expired', 'escrow_expired']);
    expect(w.balances()).toEqual(untouched);
    w.expectConserved();
  });

  it('the notary killed between recording a request and answering it answers by its rule on restart', async () => {
    w = new EscrowWorld();
    await w.stop('NOTARY');
    let killed = false;
    w.startNotary((records) => ({
      request: (r) => records.request(r),
      get: (id) => records.get(id),
      list: (q) => records.list(q),
      approvals: (id, a) => records.approvals(id, a),
      markAnswered: (id) => records.markAnswered(id),
      answer: () => {
        killed = true;
        void w.stop('NOTARY');
        throw new Error('killed before answering');
      },
    }));
    await w.trade('K-4', { manager: 'MANAGER', notary: 'NOTARY' });
    await w.until(() => killed, 'the request recorded, the notary killed');
    await w.stop('NOTARY');
    w.startNotary();
    const { BUYER, SELLER } = await w.final('K-4');
    expect([BUYER.status, SELLER.status]).toEqual(['settled', 'settled']);
    expect(w.balances()).toEqual(settled);
  });

  it('a bank killed after its deposit finishes the trade on restart', async () => {
    w = new EscrowWorld({ decide: 'operator', denyParties: [] });
    await w.trade('K-3', { manager: 'MANAGER', notary: 'NOTARY' });
    await w.until(() => w.manager!.service.get('K-3').state === 'approving', 'both deposits verified');
    await w.stop('BUYER');
    await w.notary!.service.approve(actorOf('NOTARY'), 'K-3');
    await w.until(() => w.manager!.service.get('K-3').state === 'settled', 'the manager settled');
    await w.restart('BUYER');
    const { BUYER, SELLER } = await w.final('K-3');
    expect([BUYER.status, SELLER.status]).toEqual(['settled', 'settled']);
    expect(w.balances()).toEqual(settled);
  });
});
