/**
 * The notary (settlement/escrow-orchestrated/README.md): a party of its own that a trade's terms
 * may name. The escrow manager asks it to approve a settlement (`approval_request` with the terms
 * and both escrow ids); it checks the terms' hash, reads both escrows on their ledgers (each must
 * name it as notary and hold what the terms say), and decides by its rule (a deny-list of
 * parties, a limit on the cash amount) or leaves the request to its operator. Approving, it
 * approves one release of each escrow on its ledger (Fabric: its own `EscrowApprove`
 * transaction; EVM: its EIP-712 signature) and answers the manager with a signed `approval`
 * carrying both. The answer is recorded before anything is sent and never changed.
 */
import { canonicalHash } from '../../core/canonical';
import type { ApprovalRecord, ApprovalState } from '../../core/escrow';
import { TradeError } from '../../core/errors';
import type { Actor, LegName } from '../../core/trade';
import type { SettlementMessenger } from '../messenger';
import { actionPoint, type CrashPoint } from '../../core/crash-points';
import type { SettlementMessage } from '../mode';
import {
  approvalBody,
  escrowTermsOf,
  legParties,
  LEGS,
  ON_LEDGER,
  ProtocolError,
  termField,
  type EscrowLedgers,
  type EscrowTerms,
} from '../escrow-orchestrated/protocol';

/** The notary's records (store/notary.ts `NotaryRecords`). */
export interface NotaryRecordsPort {
  request(r: Pick<ApprovalRecord, 'tradeId' | 'manager' | 'termsHash' | 'terms' | 'request'>): ApprovalRecord;
  get(tradeId: string): ApprovalRecord | undefined;
  list(query?: { readonly state?: ApprovalState }): readonly ApprovalRecord[];
  answer(tradeId: string, state: 'approved' | 'refused', reason: string, decidedBy: string): ApprovalRecord;
  approvals(tradeId: string, approvals: Readonly<Record<string, string>>): ApprovalRecord;
  markAnswered(tradeId: string): void;
}

/** How the notary decides. */
export interface NotaryRule {
  /** `rule`: approve whatever passes the checks; `operator`: its operator approves or refuses through the API. */
  readonly decide: 'rule' | 'operator';
  /** Parties whose trades are refused. */
  readonly denyParties: readonly string[];
  /** The largest cash amount (smallest unit) approved; none: no limit. */
  readonly maxAmount?: bigint;
}

export interface NotaryOptions {
  readonly party: string;
  readonly records: NotaryRecordsPort;
  readonly ledgers: EscrowLedgers;
  readonly messenger: SettlementMessenger;
  readonly rule: NotaryRule;
  readonly onError?: (err: unknown, context: Readonly<Record<string, string>>) => void;
  /** Tests only: `<leg>.approve:confirmed` after each ledger approval (core/crash-points.ts). */
  readonly crashPoint?: CrashPoint;
}

export interface Notary {
  onMessage(message: SettlementMessage): Promise<void>;
  get(tradeId: string): ApprovalRecord;
  list(query?: { readonly state?: ApprovalState }): readonly ApprovalRecord[];
  /** The operator approves a pending request (`INVALID_TRANSITION` once answered). */
  approve(actor: Actor, tradeId: string): Promise<ApprovalRecord>;
  refuse(actor: Actor, tradeId: string, reason: string): Promise<ApprovalRecord>;
  /**
   * Finishes what a crash interrupted: requests recorded but not yet decided by the rule, answers
   * approved without their ledger approvals or not yet delivered.
   */
  start(): void;
  close(): Promise<void>;
}

export function createNotary(options: Readonly<NotaryOptions>): Notary {
  return new NotaryService(options);
}

/** The terms carried in a request (protocol.ts `termKey`), and the request's own fields. */
function splitRequest(body: Readonly<Record<string, string>>): {
  terms: Record<string, string>;
  own: Record<string, string>;
} {
  const terms: Record<string, string> = {};
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    const term = termField(k);
    if (term !== undefined) terms[term] = v;
    else own[k] = v;
  }
  return { terms, own };
}

class NotaryService implements Notary {
  readonly #o: Readonly<NotaryOptions>;
  /** Answers under way by trade, so an operator's click and a redelivered request never race. */
  readonly #busy = new Map<string, Promise<unknown>>();
  readonly #sending = new Set<Promise<void>>();

  constructor(options: Readonly<NotaryOptions>) {
    this.#o = options;
  }

  async onMessage(m: SettlementMessage): Promise<void> {
    if (m.type !== 'approval_request') return;
    try {
      await this.#serial(m.tradeId, () => this.#request(m));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.#o.onError?.(err, { trade: m.tradeId, from: m.from.party, type: m.type });
    }
  }

  get(tradeId: string): ApprovalRecord {
    const r = this.#o.records.get(tradeId);
    if (!r) throw new TradeError('TRADE_NOT_FOUND', `this notary has no approval request for ${tradeId}`, { tradeId });
    return r;
  }

  list(query: { readonly state?: ApprovalState } = {}): readonly ApprovalRecord[] {
    return this.#o.records.list(query);
  }

  approve(actor: Actor, tradeId: string): Promise<ApprovalRecord> {
    return this.#serial(tradeId, () => this.#operator(actor, tradeId, 'approved', `approved by ${actor.subject}`));
  }

  refuse(actor: Actor, tradeId: string, reason: string): Promise<ApprovalRecord> {
    return this.#serial(tradeId, () => this.#operator(actor, tradeId, 'refused', reason));
  }

  start(): void {
    for (const r of this.#o.records.list()) {
      if (r.answered || (r.state === 'pending' && this.#o.rule.decide === 'operator')) continue;
      const finish = r.state === 'pending' ? () => this.#decide(r) : () => this.#carryOut(r);
      void this.#serial(r.tradeId, finish).catch((err: unknown) =>
        this.#o.onError?.(err, { trade: r.tradeId, role: 'notary' }),
      );
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#busy.values()]);
    await Promise.allSettled([...this.#sending]);
  }

  async #request(m: SettlementMessage): Promise<ApprovalRecord> {
    const { terms, own } = splitRequest(m.body);
    const termsHash = canonicalHash(terms);
    if (own['termsHash'] !== termsHash) throw new ProtocolError('the request’s terms do not hash to its termsHash');
    const t = escrowTermsOf(terms);
    if (t.notary !== this.#o.party) throw new ProtocolError(`the terms name notary ${t.notary ?? 'none'}`);
    if (m.from.party !== t.manager) throw new ProtocolError(`${m.from.party} is not the terms’ manager`);
    const existing = this.#o.records.get(m.tradeId);
    if (existing && existing.state !== 'pending') return this.#carryOut(existing); // answer again (idempotent)
    // Still pending after a crash between recording the request and answering it: decided now.
    const pending =
      existing ??
      this.#o.records.request({ tradeId: m.tradeId, manager: m.from.party, termsHash, terms, request: own });
    return this.#decide(pending);
  }

  /** Refuses a request whose escrows or terms fail the checks, approves it by rule, or leaves it to the operator. */
  async #decide(pending: ApprovalRecord): Promise<ApprovalRecord> {
    const t = escrowTermsOf(pending.terms);
    const problem = (await this.#escrowProblems(pending.tradeId, t, pending.request)) ?? this.#ruleProblem(t);
    if (problem !== undefined) return this.#answer(pending, 'refused', problem, 'rule');
    if (this.#o.rule.decide === 'operator') return pending;
    return this.#answer(pending, 'approved', 'within the rule', 'rule');
  }

  /** Both escrows are where the terms say, name this notary and hold what the terms say. */
  async #escrowProblems(
    tradeId: string,
    t: EscrowTerms,
    own: Readonly<Record<string, string>>,
  ): Promise<string | undefined> {
    for (const leg of LEGS) {
      const connector = this.#o.ledgers.connector(leg);
      const depositor = this.#o.ledgers.accountOf(legParties(t, leg).depositor, connector.ledger);
      const escrowId = connector.escrowIdOf(tradeId, depositor);
      if (own[`${leg}Escrow`]?.toLowerCase() !== escrowId.toLowerCase()) return `the ${leg} escrow is not ${escrowId}`;
      const view = await connector.readEscrow(escrowId);
      const amount = leg === 'securities' ? t.quantity : t.amount;
      const notary = this.#o.ledgers.accountOf(this.#o.party, connector.ledger).toLowerCase();
      if (!view || view.state !== 'held') return `the ${leg} escrow ${escrowId} holds nothing`;
      if (view.amount !== amount) return `the ${leg} escrow holds ${view.amount}, the terms say ${amount}`;
      if (view.notary?.toLowerCase() !== notary) return `the ${leg} escrow does not name this notary`;
    }
    return undefined;
  }

  #ruleProblem(t: EscrowTerms): string | undefined {
    const denied = [t.buyer, t.seller].find((p) => this.#o.rule.denyParties.includes(p));
    if (denied !== undefined) return `party ${denied} is on the notary's deny-list`;
    const max = this.#o.rule.maxAmount;
    if (max !== undefined && t.amount > max) return `the amount ${t.amount} exceeds the notary's limit ${max}`;
    return undefined;
  }

  async #operator(
    actor: Actor,
    tradeId: string,
    state: 'approved' | 'refused',
    reason: string,
  ): Promise<ApprovalRecord> {
    const r = this.get(tradeId);
    if (r.state !== 'pending') {
      throw new TradeError('INVALID_TRANSITION', `the request for ${tradeId} is already ${r.state}`, {
        tradeId,
        state: r.state,
      });
    }
    return this.#answer(r, state, reason, actor.fingerprint);
  }

  /** Records the answer (once), then carries it out. */
  async #answer(r: ApprovalRecord, state: 'approved' | 'refused', reason: string, by: string): Promise<ApprovalRecord> {
    const answered = this.#o.records.answer(r.tradeId, state, reason, by);
    return this.#carryOut(answered);
  }

  /** Approved: each escrow's release approved on its ledger; then the answer goes to the manager. */
  async #carryOut(r: ApprovalRecord): Promise<ApprovalRecord> {
    let current = r;
    if (r.state === 'approved') {
      const given: Partial<Record<LegName, string>> = {};
      for (const leg of LEGS) {
        if (current.approvals[leg] !== undefined) continue;
        given[leg] = await this.#approveLeg(r, leg);
      }
      if (Object.keys(given).length > 0) current = this.#o.records.approvals(r.tradeId, given);
    }
    const approvals =
      current.state === 'approved'
        ? { securities: current.approvals['securities'], cash: current.approvals['cash'] }
        : {};
    const body = approvalBody({
      termsHash: current.termsHash,
      verdict: current.state === 'approved' ? 'approve' : 'refuse',
      ...(current.reason !== undefined && { reason: current.reason }),
      approvals: Object.fromEntries(Object.entries(approvals).filter(([, v]) => v !== undefined)),
    });
    // Delivered in the background: an operator's answer never waits for the manager to be up.
    const sending = this.#o.messenger.send(current.manager, { tradeId: r.tradeId, type: 'approval', body }).then(
      () => this.#o.records.markAnswered(r.tradeId),
      (err: unknown) => this.#o.onError?.(err, { trade: r.tradeId, to: current.manager, type: 'approval' }),
    );
    this.#sending.add(sending);
    void sending.finally(() => this.#sending.delete(sending));
    return current;
  }

  async #approveLeg(r: ApprovalRecord, leg: LegName): Promise<string> {
    const connector = this.#o.ledgers.connector(leg);
    const escrowId = r.request[`${leg}Escrow`] ?? '';
    const view = await connector.readEscrow(escrowId);
    if (!view) throw new Error(`the ${leg} escrow ${escrowId} is gone`);
    const approval = await connector.approveRelease(escrowId, view.amount - view.released);
    this.#o.crashPoint?.(actionPoint(leg, 'approve', 'confirmed'), r.tradeId);
    if (approval.signature !== undefined) return approval.signature;
    return `${ON_LEDGER}${approval.outcome?.txId ?? 'done'}`;
  }

  #serial<T>(tradeId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#busy.get(tradeId) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(fn);
    this.#busy.set(tradeId, run);
    void run
      .finally(() => {
        if (this.#busy.get(tradeId) === run) this.#busy.delete(tradeId);
      })
      .catch(() => undefined);
    return run;
  }
}
