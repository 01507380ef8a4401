/**
 * The escrow manager's routes over real HTTPS, served by a real manager of an orchestrated escrow
 * on in-memory ledgers (settlement/escrow-orchestrated/__tests__/world.ts), with its operator's,
 * auditor's and a trader's certificates of the manager's party.
 */
import 'reflect-metadata';
import { actorOf } from '../../../testing/engine-fakes';
import { errorOf, startPartyGateway, type PartyGateway } from '../../../testing/party-harness';
import { EscrowWorld } from '../../settlement/escrow-orchestrated/__tests__/world';
import { ManagerRecords } from '../../store/escrow-manager';

jest.setTimeout(30_000);

interface WireTrade {
  tradeId: string;
  state: string;
  deposits: Record<'securities' | 'cash', { verified: boolean; escrowId?: string; txId?: string }>;
  decision?: { outcome: string; reason: string; decidedAt: string };
  approval?: { verdict: string; approvals: Record<string, string> };
  ledgerActions: { leg: string; ledger: string; kind: string; state: string; txId?: string }[];
}

describe('escrow manager routes', () => {
  let w: EscrowWorld;
  let m: PartyGateway;
  const notary = { manager: 'MANAGER', notary: 'NOTARY' };

  beforeAll(async () => {
    w = new EscrowWorld({ decide: 'operator', denyParties: [] });
    m = await startPartyGateway('MANAGER', { manager: w.manager!.service });
    for (const id of ['T-1', 'T-2']) await w.trade(id, notary);
    await w.until(
      () => ['T-1', 'T-2'].every((id) => w.manager!.service.get(id).state === 'approving'),
      'both trades verified and the notary asked',
    );
  });
  afterAll(async () => {
    await m?.close();
    await w?.close();
  });

  describe('GET /v1/escrow/trades', () => {
    it('lists the managed trades with their deposits verified on the ledgers', async () => {
      const res = await m.as('operator', { path: '/v1/escrow/trades' });
      expect(res.status).toBe(200);
      const { trades } = res.json as { trades: WireTrade[] };
      expect(trades.map((t) => t.tradeId).sort()).toEqual(['T-1', 'T-2']);
      const t1 = trades.find((t) => t.tradeId === 'T-1')!;
      expect(t1).toMatchObject({
        state: 'approving',
        buyer: 'BUYER',
        seller: 'SELLER',
        notary: 'NOTARY',
        termsHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        hashlock: expect.stringMatching(/^0x[0-9a-f]{64}$/),
        terms: expect.objectContaining({ escrowManager: 'MANAGER', escrowNotary: 'NOTARY', quantity: '100' }),
        ledgerActions: [],
      });
      for (const leg of ['securities', 'cash'] as const) {
        expect(t1.deposits[leg]).toEqual({ verified: true, escrowId: expect.any(String), txId: expect.any(String) });
      }
      expect(t1.decision).toBeUndefined();
    });

    it('filters by state', async () => {
      const approving = await m.as('auditor', { path: '/v1/escrow/trades?state=approving' });
      expect((approving.json as { trades: unknown[] }).trades).toHaveLength(2);
      const settled = await m.as('auditor', { path: '/v1/escrow/trades?state=settled' });
      expect(settled.json).toEqual({ trades: [] });
    });

    it('refuses an unknown state, naming the parameter', async () => {
      const res = await m.as('operator', { path: '/v1/escrow/trades?state=pending' });
      expect(errorOf(res)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message: /query\.state/ });
    });

    it('refuses a trader (403)', async () => {
      const res = await m.as('trader', { path: '/v1/escrow/trades' });
      expect(errorOf(res)).toMatchObject({ status: 403, code: 'ROLE_FORBIDDEN' });
    });
  });

  describe('GET /v1/escrow/trades/{id}', () => {
    it('shows one trade to an auditor', async () => {
      const res = await m.as('auditor', { path: '/v1/escrow/trades/T-2' });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ tradeId: 'T-2', state: 'approving' });
    });

    it('answers 404 TRADE_NOT_FOUND for a trade it does not manage', async () => {
      const res = await m.as('operator', { path: '/v1/escrow/trades/T-404' });
      expect(errorOf(res)).toMatchObject({ status: 404, code: 'TRADE_NOT_FOUND', details: { tradeId: 'T-404' } });
    });

    it('refuses a malformed trade id, naming it', async () => {
      const res = await m.as('operator', { path: '/v1/escrow/trades/-bad' });
      expect(errorOf(res)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message: /path\.id/ });
    });

    it('refuses a trader (403)', async () => {
      expect((await m.as('trader', { path: '/v1/escrow/trades/T-1' })).status).toBe(403);
    });
  });

  describe('POST /v1/escrow/trades/{id}/cancel', () => {
    it('refuses an auditor: cancelling is the operator’s (403)', async () => {
      const res = await m.as('auditor', { method: 'POST', path: '/v1/escrow/trades/T-2/cancel' });
      expect(errorOf(res)).toMatchObject({ status: 403, code: 'ROLE_FORBIDDEN' });
      expect(w.manager!.service.get('T-2').decision).toBeUndefined();
    });

    it('refuses a body, naming it', async () => {
      const res = await m.as('operator', { method: 'POST', path: '/v1/escrow/trades/T-2/cancel', body: { x: 1 } });
      expect(errorOf(res)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', details: { field: 'body' } });
    });

    it('answers 404 for a trade it does not manage', async () => {
      const res = await m.as('operator', { method: 'POST', path: '/v1/escrow/trades/T-404/cancel' });
      expect(errorOf(res)).toMatchObject({ status: 404, code: 'TRADE_NOT_FOUND' });
    });

    it('aborts an undecided trade: both deposits returned, the returns shown with their transactions', async () => {
      const res = await m.as('operator', { method: 'POST', path: '/v1/escrow/trades/T-2/cancel' });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        tradeId: 'T-2',
        state: 'decided',
        decision: { outcome: 'abort', reason: expect.stringMatching(/cancelled by the manager's operator/) },
      });
      await w.until(() => w.manager!.service.get('T-2').state === 'aborted', 'T-2 aborted');
      const t = (await m.as('operator', { path: '/v1/escrow/trades/T-2' })).json as WireTrade;
      expect(t.state).toBe('aborted');
      expect(t.ledgerActions.map((a) => [a.leg, a.ledger, a.kind, a.state]).sort()).toEqual([
        ['cash', 'evm', 'return', 'done'],
        ['securities', 'fabric', 'return', 'done'],
      ]);
      for (const a of t.ledgerActions) expect(a.txId).toEqual(expect.any(String));
    });

    it('answers 409 INVALID_TRANSITION once the trade is decided', async () => {
      const res = await m.as('operator', { method: 'POST', path: '/v1/escrow/trades/T-2/cancel' });
      expect(errorOf(res)).toMatchObject({
        status: 409,
        code: 'INVALID_TRANSITION',
        details: { tradeId: 'T-2', decision: 'abort' },
      });
    });
  });

  describe('after a commit', () => {
    beforeAll(async () => {
      await w.notary!.service.approve(actorOf('NOTARY'), 'T-1');
      await w.until(() => w.manager!.service.get('T-1').state === 'settled', 'T-1 settled');
    });

    it('shows the notary’s approval, the decision and both releases with their transactions', async () => {
      const t = (await m.as('auditor', { path: '/v1/escrow/trades/T-1' })).json as WireTrade;
      expect(t).toMatchObject({
        state: 'settled',
        approval: { verdict: 'approve', approvals: { securities: expect.any(String), cash: expect.any(String) } },
        decision: { outcome: 'commit', decidedAt: expect.any(String) },
      });
      expect(t.ledgerActions.map((a) => [a.leg, a.kind, a.state]).sort()).toEqual([
        ['cash', 'release', 'done'],
        ['securities', 'release', 'done'],
      ]);
    });

    it('cannot cancel it (409)', async () => {
      const res = await m.as('operator', { method: 'POST', path: '/v1/escrow/trades/T-1/cancel' });
      expect(errorOf(res)).toMatchObject({ status: 409, code: 'INVALID_TRANSITION', details: { decision: 'commit' } });
    });

    it('never shows the secret, in any form, in any answer given', async () => {
      const records = new ManagerRecords(w.manager!.store.db, 'MANAGER');
      await m.as('operator', { path: '/v1/escrow/trades' });
      expect(m.answers.length).toBeGreaterThan(15);
      for (const id of ['T-1', 'T-2']) {
        const secret = records.secret(id)!.replace(/^0x/, '').toLowerCase();
        expect(secret).toMatch(/^[0-9a-f]{64}$/);
        const forms = [secret, Buffer.from(secret, 'hex').toString('base64')];
        for (const res of m.answers) {
          for (const form of forms) expect(res.text.toLowerCase()).not.toContain(form.toLowerCase());
        }
      }
    });
  });

  it('answers 404 ROLE_NOT_SERVED on the notary’s and the observer’s routes', async () => {
    const notaryRoute = await m.as('operator', { path: '/v1/approvals' });
    expect(errorOf(notaryRoute)).toMatchObject({
      status: 404,
      code: 'ROLE_NOT_SERVED',
      message: 'this gateway is not a notary',
    });
    const observerRoute = await m.as('auditor', { path: '/v1/observations' });
    expect(errorOf(observerRoute)).toMatchObject({ status: 404, message: 'this gateway is not an observer' });
  });
});
