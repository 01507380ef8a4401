/**
 * The escrow manager's routes: the trades it manages (read) and its operator's cancel. A managed
 * trade goes on the wire field by field ({@link managedTradeToWire}): the manager's secret, which
 * opens both escrows, is not among them, nor anything it could be derived from (a release's
 * parameters or signed payload).
 */
import type { ManagedLedgerAction, ManagedState, ManagedTrade } from '../../core/escrow';
import type { LegName } from '../../core/trade';
import { actorOf, serviceOf, tradeIdOf, type Handler } from './context';

/** Evidence keys never shown, should a step ever write one: the secret is the manager's only. */
const SECRET_KEY = /secret|preimage/i;

/** `key` of the evidence, as an optional field named `field`. */
const pick = (evidence: Readonly<Record<string, string>>, key: string, field: string): Record<string, string> =>
  evidence[key] !== undefined ? { [field]: evidence[key] } : {};

/** One leg's deposit: the escrow the manager verified on its ledger, the deposit tx the bank reported. */
function depositOf(evidence: Readonly<Record<string, string>>, leg: LegName): unknown {
  return {
    verified: evidence[`${leg}Escrow`] !== undefined,
    ...pick(evidence, `${leg}Escrow`, 'escrowId'),
    ...pick(evidence, `${leg}DepositTx`, 'txId'),
  };
}

/** The notary's answer as the manager received it, once it has. */
function approvalOf(evidence: Readonly<Record<string, string>>): unknown {
  const verdict = evidence['notaryVerdict'];
  if (verdict === undefined) return undefined;
  return {
    verdict,
    ...pick(evidence, 'notaryReason', 'reason'),
    approvals: { ...pick(evidence, 'securitiesApproval', 'securities'), ...pick(evidence, 'cashApproval', 'cash') },
  };
}

function decisionOf(t: ManagedTrade): unknown {
  if (t.decision === undefined) return undefined;
  return { outcome: t.decision, reason: t.reason ?? '', decidedAt: t.decidedAt ?? t.updatedAt };
}

/**
 * A managed trade as JSON (schema `ManagedTrade`), with the manager's releases and returns:
 * every field is named here, so nothing the record might carry besides reaches the wire.
 */
export function managedTradeToWire(t: ManagedTrade, ledgerActions: readonly ManagedLedgerAction[]): unknown {
  const evidence = Object.fromEntries(Object.entries(t.evidence).filter(([key]) => !SECRET_KEY.test(key)));
  const approval = approvalOf(evidence);
  const decision = decisionOf(t);
  return {
    tradeId: t.tradeId,
    state: t.state,
    terms: { ...t.terms },
    termsHash: t.termsHash,
    buyer: t.buyer,
    seller: t.seller,
    ...(t.notary !== undefined && { notary: t.notary }),
    ...(t.observer !== undefined && { observer: t.observer }),
    hashlock: t.hashlock,
    decisionDeadline: t.decisionDeadline,
    expiry: t.expiry,
    deposits: { securities: depositOf(evidence, 'securities'), cash: depositOf(evidence, 'cash') },
    ...(approval !== undefined && { approval }),
    ...(decision !== undefined && { decision }),
    evidence,
    ledgerActions: ledgerActions.map((a) => ({ ...a })),
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

export const listManagedTrades: Handler = async (ctx) => {
  const manager = serviceOf(ctx, 'manager');
  const state = ctx.query['state'] as ManagedState | undefined;
  const trades = manager.list(state !== undefined ? { state } : {});
  return {
    status: 200,
    json: { trades: trades.map((t) => managedTradeToWire(t, manager.ledgerActions(t.tradeId))) },
  };
};

export const getManagedTrade: Handler = async (ctx) => {
  const manager = serviceOf(ctx, 'manager');
  const t = manager.get(tradeIdOf(ctx));
  return { status: 200, json: managedTradeToWire(t, manager.ledgerActions(t.tradeId)) };
};

export const cancelManagedTrade: Handler = async (ctx) => {
  const manager = serviceOf(ctx, 'manager');
  const t = await manager.cancel(actorOf(ctx), tradeIdOf(ctx));
  return { status: 200, json: managedTradeToWire(t, manager.ledgerActions(t.tradeId)) };
};
