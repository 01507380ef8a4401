/**
 * The handler of every documented operation. `HANDLERS` is a `Record<OperationId, Handler>`, so an
 * operation added to the OpenAPI description does not compile until it has a handler.
 */
import type { OperationId } from '../openapi';
import type { AuditQuery } from '../../core/trade';
import { getBalances } from './balances';
import { RequestError } from '../errors';
import type { PeerEnvelope } from '../../messaging/envelope';
import { actorOf, type Handler } from './context';
import { cancelTrade, getTrade, listTrades, submitTrade } from './trades';
import { cancelManagedTrade, getManagedTrade, listManagedTrades } from './escrow';
import { approveSettlement, getApproval, listApprovals, refuseSettlement } from './approvals';
import { getObservations } from './observations';

const getAudit: Handler = async (ctx) => {
  const q = ctx.query;
  const query: AuditQuery = {
    ...(q['tradeId'] !== undefined ? { tradeId: q['tradeId'] } : {}),
    ...(q['party'] !== undefined ? { party: q['party'] } : {}),
    ...(q['from'] !== undefined ? { from: q['from'] } : {}),
    ...(q['to'] !== undefined ? { to: q['to'] } : {}),
  };
  return { status: 200, json: await ctx.deps.trades.audit(query) };
};

const receivePeerMessage: Handler = async (ctx) => {
  const inbox = ctx.deps.peer;
  if (!inbox) throw new RequestError('PEER_MESSAGING_DISABLED', 'this gateway is not configured for gateway messaging');
  const { seq, hash } = await inbox.receive(actorOf(ctx), ctx.body as PeerEnvelope);
  return { status: 202, json: { accepted: true, seq, hash } };
};

const getHealth: Handler = async (ctx) => {
  const h = ctx.deps.health();
  return {
    status: 200,
    json: { status: 'ok', party: ctx.deps.servedParty, directoryIssuedAt: h.directoryIssuedAt, crls: h.crls },
  };
};

const getMetrics: Handler = async (ctx) => ({
  status: 200,
  text: await ctx.deps.metrics.registry.render(),
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
});

const getOpenApi: Handler = async (ctx) => ({ status: 200, json: ctx.deps.openapi });

/** Operation → handler. */
export const HANDLERS: Readonly<Record<OperationId, Handler>> = {
  submitTrade,
  listTrades,
  getTrade,
  cancelTrade,
  getAudit,
  getBalances,
  receivePeerMessage,
  getHealth,
  getMetrics,
  getOpenApi,
  listManagedTrades,
  getManagedTrade,
  cancelManagedTrade,
  listApprovals,
  getApproval,
  approveSettlement,
  refuseSettlement,
  getObservations,
};

export type { Handler, HealthInfo, Reply, RouteContext, RouteDeps } from './context';
export { createValidators, isIsin, isUint256 } from './validate';
export { tradeToWire } from './trades';
export { managedTradeToWire } from './escrow';
export { approvalToWire } from './approvals';
export { observationsToWire } from './observations';
