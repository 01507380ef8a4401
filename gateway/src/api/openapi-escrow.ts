/**
 * The operations of the orchestrated escrow's parties of their own (settlement/escrow-orchestrated/
 * README.md): an escrow manager's trades, a notary's approval requests, an observer's log. Every
 * gateway documents and routes them; one that does not run the role (config `role`) answers 404
 * `ROLE_NOT_SERVED`. Those parties' operators hold role `operator` and their auditors `auditor`
 * in their own party's certificates, as a bank's do.
 */
import type { Role } from '@dvp/certs';
import { ERROR_RESPONSES, ref, type OperationSpec } from './openapi-schemas';

export { ESCROW_SCHEMAS, MANAGED_STATES, APPROVAL_STATES } from './openapi-escrow-schemas';

/** The operations of the escrow manager, the notary and the observer. */
export type EscrowOperationId =
  | 'listManagedTrades'
  | 'getManagedTrade'
  | 'cancelManagedTrade'
  | 'listApprovals'
  | 'getApproval'
  | 'approveSettlement'
  | 'refuseSettlement'
  | 'getObservations';

const READERS: readonly Role[] = ['operator', 'auditor'];
const OPERATOR: readonly Role[] = ['operator'];
const tradeIdParam = { id: ref('TradeId') };

const notServed = (what: string) => ({ description: `This gateway is not ${what} (ROLE_NOT_SERVED)`, schema: 'Error' });
const notFound = (what: string, none: string) => ({
  description: `This gateway is not ${what} (ROLE_NOT_SERVED), or ${none} (TRADE_NOT_FOUND)`,
  schema: 'Error',
});
const answered = { description: 'The request is answered already (INVALID_TRANSITION)', schema: 'Error' };

const MANAGER = 'an escrow manager';
const NO_MANAGED = 'it manages no such trade';
const NOTARY = 'a notary';
const NO_REQUEST = 'it has no approval request for this trade';

/** The escrow manager's operations. */
const MANAGER_OPERATIONS: Readonly<
  Record<'listManagedTrades' | 'getManagedTrade' | 'cancelManagedTrade', OperationSpec>
> = {
  listManagedTrades: {
    method: 'get',
    path: '/v1/escrow/trades',
    summary: 'Escrow manager: the trades it manages, newest first',
    roles: READERS,
    query: { state: ref('ManagedState') },
    responses: {
      '200': { description: 'Managed trades', schema: 'ManagedTradeList' },
      ...ERROR_RESPONSES,
      '404': notServed(MANAGER),
    },
  },
  getManagedTrade: {
    method: 'get',
    path: '/v1/escrow/trades/{id}',
    summary:
      'Escrow manager: one managed trade, its deposits, the notary’s answer, the decision and its ledger actions',
    roles: READERS,
    pathParams: tradeIdParam,
    responses: {
      '200': { description: 'The managed trade', schema: 'ManagedTrade' },
      ...ERROR_RESPONSES,
      '404': notFound(MANAGER, NO_MANAGED),
    },
  },
  cancelManagedTrade: {
    method: 'post',
    path: '/v1/escrow/trades/{id}/cancel',
    summary: 'Escrow manager: abort a trade it has not decided yet (both deposits are returned)',
    roles: OPERATOR,
    pathParams: tradeIdParam,
    responses: {
      '200': { description: 'The trade, decided abort', schema: 'ManagedTrade' },
      ...ERROR_RESPONSES,
      '404': notFound(MANAGER, NO_MANAGED),
      '409': { description: 'The trade is decided already (INVALID_TRANSITION)', schema: 'Error' },
    },
  },
};

/** The notary's operations. */
const NOTARY_OPERATIONS: Readonly<
  Record<'listApprovals' | 'getApproval' | 'approveSettlement' | 'refuseSettlement', OperationSpec>
> = {
  listApprovals: {
    method: 'get',
    path: '/v1/approvals',
    summary: 'Notary: the approval requests it was sent, newest first',
    roles: READERS,
    query: { state: ref('ApprovalState') },
    responses: {
      '200': { description: 'Approval requests', schema: 'ApprovalList' },
      ...ERROR_RESPONSES,
      '404': notServed(NOTARY),
    },
  },
  getApproval: {
    method: 'get',
    path: '/v1/approvals/{id}',
    summary: 'Notary: the approval request of one trade',
    roles: READERS,
    pathParams: tradeIdParam,
    responses: {
      '200': { description: 'The approval request', schema: 'Approval' },
      ...ERROR_RESPONSES,
      '404': notFound(NOTARY, NO_REQUEST),
    },
  },
  approveSettlement: {
    method: 'post',
    path: '/v1/approvals/{id}/approve',
    summary: 'Notary: approve a pending request (both releases approved on their ledgers, the manager answered)',
    roles: OPERATOR,
    pathParams: tradeIdParam,
    responses: {
      '200': { description: 'The request, approved', schema: 'Approval' },
      ...ERROR_RESPONSES,
      '404': notFound(NOTARY, NO_REQUEST),
      '409': answered,
      '502': { description: 'A ledger refused the approval (LEDGER_REJECTED)', schema: 'Error' },
      '503': { description: 'A ledger is unavailable (LEDGER_UNAVAILABLE)', schema: 'Error' },
    },
  },
  refuseSettlement: {
    method: 'post',
    path: '/v1/approvals/{id}/refuse',
    summary: 'Notary: refuse a pending request, with a reason (the manager aborts the trade)',
    roles: OPERATOR,
    pathParams: tradeIdParam,
    body: 'RefusalRequest',
    responses: {
      '200': { description: 'The request, refused', schema: 'Approval' },
      ...ERROR_RESPONSES,
      '404': notFound(NOTARY, NO_REQUEST),
      '409': answered,
    },
  },
};

/** The operations of the three parties, one entry each. */
export const ESCROW_OPERATIONS: Readonly<Record<EscrowOperationId, OperationSpec>> = {
  ...MANAGER_OPERATIONS,
  ...NOTARY_OPERATIONS,
  getObservations: {
    method: 'get',
    path: '/v1/observations',
    summary:
      'Observer: its log of the records it was sent, with the chain, signatures and (on request) ledgers checked',
    roles: ['auditor', 'operator'],
    query: {
      tradeId: ref('TradeId'),
      party: { ...ref('PartyId'), description: 'The sending party.' },
      from: { ...ref('Timestamp'), description: 'Received at or after (ISO 8601 with a time zone).' },
      to: { ...ref('Timestamp'), description: 'Received at or before; not before `from`.' },
      verifyLedgers: { enum: ['true', 'false'], description: 'Also check each record on its ledger (default false).' },
    },
    responses: {
      '200': { description: 'Log entries and their verification', schema: 'ObservationPage' },
      ...ERROR_RESPONSES,
      '404': notServed('an observer'),
    },
  },
};
