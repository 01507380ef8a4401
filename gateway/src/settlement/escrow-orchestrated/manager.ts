/**
 * The escrow manager (README.md): a party of its own that both banks of an orchestrated trade
 * name in their terms. It takes each bank's `register`, and once both registered the same terms
 * it records the trade with a fresh secret and sends both banks their `instructions` (the secret's
 * hash, the decision deadline, the escrows' expiry). Then one loop per trade (manager-steps.ts)
 * reads both deposits on their ledgers, asks the notary, decides once and carries the decision
 * out, each ledger action journaled. Messages only wake a loop: what the manager acts on is what
 * the ledgers and its own records say.
 */
import { canonicalHash } from '../../core/canonical';
import type { ManagedLedgerAction, ManagedTrade } from '../../core/escrow';
import type { JournalAction } from '../../core/journal';
import type { Actor, LegName } from '../../core/trade';
import { TradeError } from '../../core/errors';
import { TradeLoops, type Next } from '../loops';
import type { SettlementMessenger } from '../messenger';
import { BackgroundSender } from './sender';
import type { SettlementMessage } from '../mode';
import type { HtlcSecret } from '../htlc/secrets';
import {
  announce,
  beforeDecision,
  carryOut,
  decide,
  instructionsOf,
  record,
  type ManagerActions,
  type ManagerRecordsPort,
  type StepDeps,
} from './manager-steps';
import {
  escrowTermsOf,
  instructionsBody,
  legParties,
  LEGS,
  parseApproval,
  ProtocolError,
  type EscrowLedgers,
} from './protocol';

/**
 * How the manager's journal is resumed after a restart (trades/journal.ts `resumeActions`): a
 * release never sent is left to the manager's loop, which sends it only if the secret may still
 * be revealed (protocol.ts `releaseAllowed`); everything else is finished as usual.
 */
export const MANAGER_RESUME = { leaveIntent: (a: JournalAction): boolean => a.kind === 'release' } as const;

export type { ManagerActions, ManagerRecordsPort } from './manager-steps';

/** Options of {@link createEscrowManager}. */
export interface EscrowManagerOptions {
  /** The manager's own party id (the `escrowManager` the terms must name). */
  readonly party: string;
  readonly records: ManagerRecordsPort;
  readonly actions: ManagerActions;
  readonly ledgers: EscrowLedgers;
  readonly messenger: SettlementMessenger;
  /** Δ: the escrows expire this long after the decision deadline. */
  readonly deltaSeconds: number;
  readonly newSecret: () => HtlcSecret;
  /** Unix seconds on the ledgers' clock; default the system clock. */
  readonly now?: () => number;
  /** How often a trade re-reads its ledgers; default 1000 ms. */
  readonly pollIntervalMs?: number;
  readonly onError?: (err: unknown, context: Readonly<Record<string, string>>) => void;
}

/** The manager's service: messages in, the operator's view and cancel, lifecycle. */
export interface EscrowManager {
  onMessage(message: SettlementMessage): Promise<void>;
  get(tradeId: string): ManagedTrade;
  list(query?: { readonly state?: ManagedTrade['state'] }): readonly ManagedTrade[];
  /**
   * The manager's releases and returns of a trade, in the order journaled: leg, ledger, state and
   * transaction, never their parameters (a release's carry the secret). `TRADE_NOT_FOUND` when
   * the manager manages no such trade.
   */
  ledgerActions(tradeId: string): readonly ManagedLedgerAction[];
  /** The operator aborts a trade that is not decided yet (`INVALID_TRANSITION` once decided). */
  cancel(actor: Actor, tradeId: string): Promise<ManagedTrade>;
  /** Starts the loop of every trade not settled or aborted (after a restart). */
  start(): void;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createEscrowManager(options: Readonly<EscrowManagerOptions>): EscrowManager {
  return new Manager(options);
}

class Manager implements EscrowManager {
  readonly #o: Readonly<EscrowManagerOptions>;
  readonly #loops: TradeLoops;
  readonly #deps: StepDeps;
  readonly #sender: BackgroundSender;

  constructor(options: Readonly<EscrowManagerOptions>) {
    this.#o = options;
    const now = options.now ?? ((): number => Math.floor(Date.now() / 1000));
    this.#sender = new BackgroundSender(options.messenger, options.onError);
    this.#loops = new TradeLoops({
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      onError: (err, tradeId) => options.onError?.(err, { trade: tradeId, role: 'escrow-manager' }),
      onEnd: () => undefined,
    });
    this.#deps = {
      party: options.party,
      records: options.records,
      actions: options.actions,
      ledgers: options.ledgers,
      now,
      send: (to, message) => this.#sender.send(to, message),
    };
  }

  async onMessage(m: SettlementMessage): Promise<void> {
    try {
      if (m.type === 'register') return this.#register(m);
      if (m.type === 'approval') return this.#approval(m);
      if (m.type === 'deposited') this.#deposited(m);
    } catch (err) {
      // A malformed message from an authenticated party: accepted, without effect, reported.
      if (!(err instanceof ProtocolError)) throw err;
      this.#o.onError?.(err, { trade: m.tradeId, from: m.from.party, type: m.type });
    }
  }

  get(tradeId: string): ManagedTrade {
    const t = this.#o.records.get(tradeId);
    if (!t) throw new TradeError('TRADE_NOT_FOUND', `this manager manages no trade ${tradeId}`, { tradeId });
    return t;
  }

  list(query: { readonly state?: ManagedTrade['state'] } = {}): readonly ManagedTrade[] {
    return this.#o.records.list(query);
  }

  ledgerActions(tradeId: string): readonly ManagedLedgerAction[] {
    this.get(tradeId);
    return this.#o.actions
      .actions(tradeId)
      .filter((a) => a.kind === 'release' || a.kind === 'return')
      .map(ledgerActionOf);
  }

  async cancel(actor: Actor, tradeId: string): Promise<ManagedTrade> {
    const t = this.get(tradeId);
    if (t.decision !== undefined) {
      throw new TradeError(
        'INVALID_TRANSITION',
        `trade ${tradeId} is decided (${t.decision}): it cannot be cancelled`,
        {
          tradeId,
          decision: t.decision,
        },
      );
    }
    const decided = decide(this.#deps, t, 'abort', `cancelled by the manager's operator ${actor.subject}`);
    this.#drive(tradeId);
    return decided;
  }

  start(): void {
    for (const t of this.#o.records.list({ active: true })) {
      this.#instruct(t);
      announce(this.#deps, t);
      this.#drive(t.tradeId);
    }
  }

  idle(): Promise<void> {
    return this.#loops.idle();
  }

  async close(): Promise<void> {
    await this.#loops.close();
    await this.#sender.settled();
  }

  /** A bank's registration; the trade is created once both registered the same terms. */
  #register(m: SettlementMessage): void {
    const terms = escrowTermsOf(m.body);
    if (terms.manager !== this.#o.party) throw new ProtocolError(`the terms name manager ${terms.manager}`);
    if (m.from.party !== terms.buyer && m.from.party !== terms.seller) {
      throw new ProtocolError(`${m.from.party} is neither the buyer nor the seller of the terms`);
    }
    const termsHash = canonicalHash(m.body);
    const existing = this.#o.records.get(m.tradeId);
    if (existing) {
      // A bank that registers again (a restart) gets the same instructions, if its terms are the same.
      if (existing.termsHash === termsHash) this.#instruct(existing, m.from.party);
      return;
    }
    const all = this.#o.records.register(m.tradeId, { party: m.from.party, terms: m.body, termsHash });
    const both = all.length === 2 && all.every((r) => r.termsHash === termsHash);
    if (!both) return;
    const secret = this.#o.newSecret();
    const decisionDeadline = terms.deadline;
    const created = this.#o.records.create(
      {
        tradeId: m.tradeId,
        terms: m.body,
        termsHash,
        buyer: terms.buyer,
        seller: terms.seller,
        ...(terms.notary !== undefined && { notary: terms.notary }),
        ...(terms.observer !== undefined && { observer: terms.observer }),
        hashlock: secret.hashlock,
        decisionDeadline,
        expiry: decisionDeadline + this.#o.deltaSeconds,
        evidence: {},
      },
      secret.preimage,
    );
    record(this.#deps, created, { step: 'registered', at: created.createdAt });
    this.#instruct(created);
    this.#drive(m.tradeId);
  }

  /**
   * A bank's notice of its deposit: it wakes the trade's loop, which reads the deposit on its
   * ledger. The deposit's transaction id is kept as evidence (once, and only from the bank that
   * deposits that leg) for the operator to look up; the manager relies on the ledger, not on it.
   */
  #deposited(m: SettlementMessage): void {
    const t = this.#o.records.get(m.tradeId);
    const leg = LEGS.find((l) => l === m.body['leg']);
    const txId = m.body['txId'];
    if (t && leg && txId !== undefined && isDepositor(t, leg, m.from.party) && !t.evidence[`${leg}DepositTx`]) {
      this.#o.records.update(m.tradeId, { evidence: { [`${leg}DepositTx`]: txId } });
    }
    this.#loops.wake(m.tradeId);
  }

  /** The notary's answer, kept as evidence (only before the decision, only from the terms' notary). */
  #approval(m: SettlementMessage): void {
    const t = this.#o.records.get(m.tradeId);
    if (!t || t.decision !== undefined || m.from.party !== t.notary) return;
    const a = parseApproval(m.body);
    if (a.termsHash !== t.termsHash) throw new ProtocolError('the approval is for other terms');
    const evidence = {
      notaryVerdict: a.verdict,
      ...(a.reason !== undefined && { notaryReason: a.reason }),
      ...(a.approvals.securities !== undefined && { securitiesApproval: a.approvals.securities }),
      ...(a.approvals.cash !== undefined && { cashApproval: a.approvals.cash }),
    };
    const answered = this.#o.records.update(m.tradeId, { evidence });
    record(this.#deps, answered, {
      step: 'notary_answered',
      decision: a.verdict === 'approve' ? 'commit' : 'abort',
      reason: a.reason ?? a.verdict,
      at: answered.updatedAt,
    });
    this.#loops.wake(m.tradeId);
  }

  /** Sends the trade's instructions to both banks (or to one). */
  #instruct(t: ManagedTrade, only?: string): void {
    const body = instructionsBody(instructionsOf(t));
    for (const bank of only ? [only] : [t.seller, t.buyer])
      this.#sender.send(bank, { tradeId: t.tradeId, type: 'instructions', body });
    if (!only) record(this.#deps, t, { step: 'instructed', at: t.createdAt });
  }

  #drive(tradeId: string): void {
    void this.#loops.run(tradeId, () => this.#step(tradeId));
  }

  async #step(tradeId: string): Promise<Next> {
    const t = this.#o.records.get(tradeId);
    if (!t || t.state === 'settled' || t.state === 'aborted') return 'done';
    return t.decision === undefined ? beforeDecision(this.#deps, t) : carryOut(this.#deps, t);
  }
}

/** True when `party` is the one that deposits `leg` of the trade. */
function isDepositor(t: ManagedTrade, leg: LegName, party: string): boolean {
  return legParties(escrowTermsOf(t.terms), leg).depositor === party;
}

/**
 * A journaled release or return without its parameters, payload and error text: a release's
 * parameters and signed payload hold the secret, and a ledger's error may echo them.
 */
function ledgerActionOf(a: JournalAction): ManagedLedgerAction {
  const escrowId = a.ledgerRef ?? a.params['escrowId'];
  const txId = a.txId ?? a.result?.['txId'];
  const block = a.result?.['block'];
  return {
    leg: a.leg,
    ledger: a.ledger,
    kind: a.kind as ManagedLedgerAction['kind'],
    state: a.state,
    ...(escrowId !== undefined && { escrowId }),
    ...(txId !== undefined && { txId }),
    ...(block !== undefined && { block }),
    attempts: a.attempts,
    updatedAt: a.updatedAt,
  };
}
