/**
 * The notary's routes: the approval requests the escrow managers sent it (read), and its
 * operator's answer to a pending one (approve, or refuse with a reason). An answer is recorded
 * once: answering again is `INVALID_TRANSITION` (409), whatever answered first (rule or operator).
 */
import type { ApprovalRecord, ApprovalState } from '../../core/escrow';
import { actorOf, serviceOf, tradeIdOf, type Handler } from './context';

/** `key` of `map`, as an optional field named `field`. */
const pick = (map: Readonly<Record<string, string>>, key: string, field: string): Record<string, string> =>
  map[key] !== undefined ? { [field]: map[key] } : {};

/** An approval request as JSON (schema `Approval`), field by field. */
export function approvalToWire(r: ApprovalRecord): unknown {
  return {
    tradeId: r.tradeId,
    manager: r.manager,
    state: r.state,
    terms: { ...r.terms },
    termsHash: r.termsHash,
    escrows: { ...pick(r.request, 'securitiesEscrow', 'securities'), ...pick(r.request, 'cashEscrow', 'cash') },
    ...(r.reason !== undefined && { reason: r.reason }),
    ...(r.decidedBy !== undefined && { decidedBy: r.decidedBy }),
    approvals: { ...pick(r.approvals, 'securities', 'securities'), ...pick(r.approvals, 'cash', 'cash') },
    answered: r.answered,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export const listApprovals: Handler = async (ctx) => {
  const notary = serviceOf(ctx, 'notary');
  const state = ctx.query['state'] as ApprovalState | undefined;
  const approvals = notary.list(state !== undefined ? { state } : {});
  return { status: 200, json: { approvals: approvals.map(approvalToWire) } };
};

export const getApproval: Handler = async (ctx) => ({
  status: 200,
  json: approvalToWire(serviceOf(ctx, 'notary').get(tradeIdOf(ctx))),
});

export const approveSettlement: Handler = async (ctx) => {
  const notary = serviceOf(ctx, 'notary');
  return { status: 200, json: approvalToWire(await notary.approve(actorOf(ctx), tradeIdOf(ctx))) };
};

export const refuseSettlement: Handler = async (ctx) => {
  const notary = serviceOf(ctx, 'notary');
  const { reason } = ctx.body as { readonly reason: string };
  return { status: 200, json: approvalToWire(await notary.refuse(actorOf(ctx), tradeIdOf(ctx), reason.trim())) };
};
