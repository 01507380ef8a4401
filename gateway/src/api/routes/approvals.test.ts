/**
 * The notary's routes over real HTTPS, served by a real notary whose operator decides
 * (rule `operator`), asked by a real escrow manager of an orchestrated escrow on in-memory ledgers
 * (settlement/escrow-orchestrated/__tests__/world.ts).
 */
import 'reflect-metadata';
import { errorOf, startPartyGateway, type PartyGateway } from '../../../testing/party-harness';
import { EscrowWorld } from '../../settlement/escrow-orchestrated/__tests__/world';

jest.setTimeout(30_000);

interface WireApproval {
  tradeId: string;
  state: string;
  escrows: Record<string, string>;
  approvals: Record<string, string>;
}

const IDS = ['A-1', 'A-2', 'A-3'];

describe('notary routes', () => {
  let w: EscrowWorld;
  let n: PartyGateway;
  const post = (path: string, body?: unknown) => n.as('operator', { method: 'POST', path, body });

  beforeAll(async () => {
    w = new EscrowWorld({ decide: 'operator', denyParties: [] });
    n = await startPartyGateway('NOTARY', { notary: w.notary!.service });
    for (const id of IDS) await w.trade(id, { manager: 'MANAGER', notary: 'NOTARY' });
    await w.until(() => w.notary!.service.list({ state: 'pending' }).length === IDS.length, 'three pending requests');
  });
  afterAll(async () => {
    await n?.close();
    await w?.close();
  });

  describe('GET /v1/approvals', () => {
    it('lists the pending requests with the terms and the escrows asked about', async () => {
      const res = await n.as('auditor', { path: '/v1/approvals?state=pending' });
      expect(res.status).toBe(200);
      const { approvals } = res.json as { approvals: WireApproval[] };
      expect(approvals.map((a) => a.tradeId).sort()).toEqual(IDS);
      const a1 = approvals.find((a) => a.tradeId === 'A-1')!;
      const m = w.manager!.service.get('A-1');
      expect(a1).toEqual({
        tradeId: 'A-1',
        manager: 'MANAGER',
        state: 'pending',
        terms: m.terms,
        termsHash: m.termsHash,
        escrows: { securities: m.evidence['securitiesEscrow'], cash: m.evidence['cashEscrow'] },
        approvals: {},
        answered: false,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
    });

    it('refuses an unknown state, naming the parameter', async () => {
      const res = await n.as('operator', { path: '/v1/approvals?state=open' });
      expect(errorOf(res)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message: /query\.state/ });
    });

    it('refuses a trader (403)', async () => {
      expect(errorOf(await n.as('trader', { path: '/v1/approvals' }))).toMatchObject({
        status: 403,
        code: 'ROLE_FORBIDDEN',
      });
    });
  });

  describe('GET /v1/approvals/{id}', () => {
    it('shows one request', async () => {
      const res = await n.as('operator', { path: '/v1/approvals/A-2' });
      expect(res.json).toMatchObject({ tradeId: 'A-2', state: 'pending' });
    });

    it('answers 404 TRADE_NOT_FOUND for a trade it was not asked about', async () => {
      const res = await n.as('auditor', { path: '/v1/approvals/A-404' });
      expect(errorOf(res)).toMatchObject({ status: 404, code: 'TRADE_NOT_FOUND', details: { tradeId: 'A-404' } });
    });

    it('refuses a malformed id, naming it', async () => {
      expect(errorOf(await n.as('auditor', { path: '/v1/approvals/a%20b' }))).toMatchObject({
        status: 400,
        message: /path\.id/,
      });
    });
  });

  describe('POST /v1/approvals/{id}/approve', () => {
    it('refuses an auditor (403), leaving the request pending', async () => {
      const res = await n.as('auditor', { method: 'POST', path: '/v1/approvals/A-1/approve' });
      expect(errorOf(res)).toMatchObject({ status: 403, code: 'ROLE_FORBIDDEN' });
      expect(w.notary!.service.get('A-1').state).toBe('pending');
    });

    it('answers 404 for a trade it was not asked about', async () => {
      expect(errorOf(await post('/v1/approvals/A-404/approve'))).toMatchObject({
        status: 404,
        code: 'TRADE_NOT_FOUND',
      });
    });

    it('approves both releases on their ledgers, and the manager commits', async () => {
      const res = await post('/v1/approvals/A-1/approve');
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        tradeId: 'A-1',
        state: 'approved',
        reason: expect.stringMatching(/^approved by /),
        decidedBy: expect.stringMatching(/^[0-9a-f]{64}$/i),
        approvals: { securities: expect.stringMatching(/^onledger:/), cash: expect.stringMatching(/^0x[0-9a-f]+$/) },
      });
      expect((await w.final('A-1')).BUYER.status).toBe('settled');
      await w.until(() => w.notary!.service.get('A-1').answered, 'the answer delivered');
      expect((await n.as('auditor', { path: '/v1/approvals/A-1' })).json).toMatchObject({ answered: true });
    });

    it('answers 409 INVALID_TRANSITION for a request answered already', async () => {
      expect(errorOf(await post('/v1/approvals/A-1/approve'))).toMatchObject({
        status: 409,
        code: 'INVALID_TRANSITION',
        message: 'the request for A-1 is already approved',
        details: { tradeId: 'A-1', state: 'approved' },
      });
    });
  });

  describe('POST /v1/approvals/{id}/refuse', () => {
    it.each([
      ['no body', undefined, /body/],
      ['no reason', {}, /body\.reason is required/],
      ['an empty reason', { reason: '' }, /body\.reason/],
      ['a blank reason', { reason: '   ' }, /body\.reason/],
      ['a reason over 500 characters', { reason: 'x'.repeat(501) }, /body\.reason/],
      ['an unknown field', { reason: 'r', by: 'me' }, /body\.by is not a known field/],
    ])('refuses %s, naming the field', async (_name, body, message) => {
      const res = await post('/v1/approvals/A-2/refuse', body);
      expect(errorOf(res)).toMatchObject({ status: body === undefined ? 415 : 400, message });
    });

    it('refuses an auditor (403)', async () => {
      const res = await n.as('auditor', { method: 'POST', path: '/v1/approvals/A-2/refuse', body: { reason: 'no' } });
      expect(errorOf(res)).toMatchObject({ status: 403, code: 'ROLE_FORBIDDEN' });
    });

    it('answers 404 for a trade it was not asked about', async () => {
      expect(errorOf(await post('/v1/approvals/A-404/refuse', { reason: 'no' }))).toMatchObject({ status: 404 });
    });

    it('refuses with the reason; the manager aborts and both deposits go back', async () => {
      const res = await post('/v1/approvals/A-2/refuse', { reason: 'sanctions screening hit' });
      expect(res.json).toMatchObject({ tradeId: 'A-2', state: 'refused', reason: 'sanctions screening hit' });
      expect((res.json as WireApproval).approvals).toEqual({});
      expect((await w.final('A-2')).SELLER.status).toBe('failed');
      expect(w.manager!.service.get('A-2')).toMatchObject({
        decision: 'abort',
        reason: 'notary_refused: sanctions screening hit',
      });
    });

    it('answers 409 once answered, whichever way', async () => {
      for (const res of [
        await post('/v1/approvals/A-2/refuse', { reason: 'again' }),
        await post('/v1/approvals/A-1/refuse', { reason: 'late' }),
      ]) {
        expect(errorOf(res)).toMatchObject({ status: 409, code: 'INVALID_TRANSITION' });
      }
      expect(errorOf(await post('/v1/approvals/A-2/approve'))).toMatchObject({
        status: 409,
        details: { state: 'refused' },
      });
    });
  });

  it('lists by state after the answers', async () => {
    const states = await Promise.all(
      ['pending', 'approved', 'refused'].map(async (s) => {
        const res = await n.as('auditor', { path: `/v1/approvals?state=${s}` });
        return (res.json as { approvals: WireApproval[] }).approvals.map((a) => a.tradeId);
      }),
    );
    expect(states).toEqual([['A-3'], ['A-1'], ['A-2']]);
  });

  it('answers 404 ROLE_NOT_SERVED on the manager’s and the observer’s routes', async () => {
    expect(errorOf(await n.as('operator', { path: '/v1/escrow/trades/A-1' }))).toMatchObject({
      status: 404,
      code: 'ROLE_NOT_SERVED',
      message: 'this gateway is not an escrow manager',
      details: { role: 'escrow-manager' },
    });
    expect(errorOf(await n.as('operator', { path: '/v1/observations' }))).toMatchObject({ code: 'ROLE_NOT_SERVED' });
  });
});
