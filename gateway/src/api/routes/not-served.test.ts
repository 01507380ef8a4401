/**
 * A bank's gateway runs none of the parties of their own: every route of the escrow manager, the
 * notary and the observer answers 404 `ROLE_NOT_SERVED`, saying which role it is not.
 */
import 'reflect-metadata';
import { ESCROW_OPERATIONS, type EscrowOperationId } from '../openapi-escrow';
import { errorOf, startPartyGateway, type PartyGateway } from '../../../testing/party-harness';

jest.setTimeout(30_000);

const NOT = {
  'escrow-manager': 'this gateway is not an escrow manager',
  notary: 'this gateway is not a notary',
  observer: 'this gateway is not an observer',
};

const ROUTES: Readonly<Record<EscrowOperationId, [keyof typeof NOT, string, unknown?]>> = {
  listManagedTrades: ['escrow-manager', '/v1/escrow/trades'],
  getManagedTrade: ['escrow-manager', '/v1/escrow/trades/T-1'],
  cancelManagedTrade: ['escrow-manager', '/v1/escrow/trades/T-1/cancel'],
  listApprovals: ['notary', '/v1/approvals?state=pending'],
  getApproval: ['notary', '/v1/approvals/T-1'],
  approveSettlement: ['notary', '/v1/approvals/T-1/approve'],
  refuseSettlement: ['notary', '/v1/approvals/T-1/refuse', { reason: 'no' }],
  getObservations: ['observer', '/v1/observations?verifyLedgers=true'],
};

describe('the escrow parties’ routes on a bank’s gateway', () => {
  let bank: PartyGateway;
  beforeAll(async () => {
    bank = await startPartyGateway('BUYER');
  });
  afterAll(async () => {
    await bank?.close();
  });

  it.each(Object.entries(ROUTES))('%s answers 404 ROLE_NOT_SERVED', async (id, [role, path, body]) => {
    const method = ESCROW_OPERATIONS[id as EscrowOperationId].method === 'post' ? 'POST' : 'GET';
    const res = await bank.as('operator', { method, path, ...(body !== undefined && { body }) });
    expect(errorOf(res)).toEqual({
      status: 404,
      code: 'ROLE_NOT_SERVED',
      message: NOT[role],
      details: { role, servedParty: 'BUYER' },
    });
  });

  it('documents the 404 on every one of them', () => {
    for (const op of Object.values(ESCROW_OPERATIONS))
      expect(op.responses['404']?.description).toMatch(/ROLE_NOT_SERVED/);
  });
});
