/**
 * The orchestrated escrow's five parties as real gateway processes on the shared local network,
 * for the escrow process tests and `make demo`: the seller's and the buyer's banks, the escrow
 * manager, the notary and the observer, each with its own folder, database and port, each told
 * every other's URL. It instructs a matched orchestrated trade on both banks, waits for both
 * banks' final status, and reads what the ledgers hold (securities on Fabric, or the EVM stand-in;
 * cash on anvil). Checks of the notary's and observer's operator API answers are plain functions
 * over the GET answer ({@link approvalProblems}, {@link observationProblems}), usable by jest and
 * the demo alike; the parties' own databases can be read meanwhile ({@link managedTrade}, ...).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort } from '@dvp/certs';
import type { Address } from 'viem';
import type { EscrowConfig } from '../../gateway/src/config/config';
import type { NetworkState } from '../../network/src/state';
import type { SecuritiesLeg } from './securities-leg';
import {
  addressOf,
  AGENT_PARTIES,
  balanceOf,
  BANKS,
  evmEscrow,
  GatewayProcess,
  heldByEscrow,
  partyPem,
  sleep,
  type Bank,
  type NotaryRuleConfig,
  type Party,
  type Pem,
} from './two-banks';

/** Every party of an orchestrated trade, banks first. */
export const ESCROW_PARTIES: readonly Party[] = [...BANKS, ...AGENT_PARTIES];

/** Options of {@link startEscrowParties}. */
export interface EscrowPartiesOptions {
  readonly net: NetworkState;
  /** The securities leg (its `gatewayTokens` go into every config on the EVM stand-in). */
  readonly leg: SecuritiesLeg;
  /** One sub-folder per party (config, database). */
  readonly dir: string;
  /** Every party's `escrow` section (Δ, grace, poll interval); omitted: the gateway's defaults. */
  readonly escrow?: Partial<EscrowConfig>;
  /** The notary's `notary` section (rule, deny-list, limit); omitted: rule, no limit. */
  readonly notary?: NotaryRuleConfig;
  /** Listen ports (e.g. the directory's, for the demo); a party not named gets a free port. */
  readonly ports?: Partial<Readonly<Record<Party, number>>>;
  /** Each party's output goes to `<logDir>/gateway-<party>.log` and outlives the caller (demo). */
  readonly logDir?: string;
  /** Extra environment per party. */
  readonly env?: Partial<Readonly<Record<Party, Readonly<Record<string, string>>>>>;
}

/** An orchestrated trade as both banks instruct it. */
export interface EscrowTradeTerms {
  readonly tradeId: string;
  readonly isin: string;
  readonly quantity: bigint;
  readonly price: bigint;
  /** Unix seconds: the settlement deadline, which is the manager's decision deadline. */
  readonly settlementDeadline: number;
  /** Name the notary / the observer in the terms; default both. */
  readonly notary?: boolean;
  readonly observer?: boolean;
  readonly currency?: string;
}

/** A timeline step as the bank's API shows it. */
export interface EscrowStep {
  readonly event: string;
  readonly status: string;
  readonly leg?: string;
  readonly ledger?: string;
  readonly txId?: string;
  readonly block?: string;
  readonly detail?: Readonly<Record<string, string>>;
}

/** A bank's trade as its API shows it. */
export interface EscrowWire {
  readonly tradeId: string;
  readonly status: string;
  readonly reason?: string;
  readonly timeline: readonly EscrowStep[];
}

/** A bank's final statuses. */
export const FINAL_STATUSES: readonly string[] = ['settled', 'failed', 'cancelled', 'expired'];

/** The five parties' processes, and what to do with them. */
export class EscrowParties {
  readonly gw: Readonly<Record<Party, GatewayProcess>>;
  readonly #net: NetworkState;
  readonly #trader: Readonly<Record<Bank, Pem>>;

  constructor(net: NetworkState, gw: Readonly<Record<Party, GatewayProcess>>) {
    this.#net = net;
    this.gw = gw;
    this.#trader = { seller: partyPem(net, 'seller', 'trader'), buyer: partyPem(net, 'buyer', 'trader') };
  }

  /** Starts every party's process (the agents first, so the banks' first messages find them). */
  async start(): Promise<void> {
    await Promise.all(AGENT_PARTIES.map((p) => this.gw[p].start()));
    await Promise.all(BANKS.map((b) => this.gw[b].start()));
  }

  /** Kills every process (-9: nothing to wait for; the databases stay). */
  async kill(): Promise<void> {
    await Promise.all(ESCROW_PARTIES.map((p) => this.gw[p].kill9()));
  }

  /** Kills `party`'s process -9 and starts it again on the same database. */
  async restart(party: Party): Promise<void> {
    await this.gw[party].kill9();
    await this.gw[party].start();
  }

  /** The party's operator (`admin`) identity, for its operator API. */
  operator(party: Party): Pem {
    return partyPem(this.#net, party, party === 'seller' || party === 'buyer' ? 'trader' : 'admin');
  }

  /** Both banks' traders instruct the trade (matching terms, sides sell and buy). */
  async instruct(t: EscrowTradeTerms): Promise<void> {
    for (const bank of BANKS) {
      const res = await this.gw[bank].call(this.#trader[bank], 'POST', '/v1/trades', instructionOf(bank, t), {
        'idempotency-key': `${t.tradeId}-${bank}`,
      });
      if (res.status !== 201)
        throw new Error(`${bank} refused ${t.tradeId}: ${res.status} ${JSON.stringify(res.json)}`);
    }
  }

  /** The bank's record of the trade. */
  async trade(bank: Bank, tradeId: string): Promise<EscrowWire> {
    const res = await this.gw[bank].call(this.#trader[bank], 'GET', `/v1/trades/${tradeId}`);
    if (res.status !== 200) throw new Error(`GET ${tradeId} at ${bank}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json as unknown as EscrowWire;
  }

  /** Polls (every 100 ms) until `predicate` holds on the bank's record; the error shows every log. */
  async until(
    bank: Bank,
    tradeId: string,
    what: string,
    predicate: (t: EscrowWire) => boolean,
    ms = 60_000,
  ): Promise<EscrowWire> {
    for (const deadline = Date.now() + ms; ; await sleep(100)) {
      const t = await this.trade(bank, tradeId).catch(() => undefined);
      if (t && predicate(t)) return t;
      if (Date.now() > deadline)
        throw new Error(`${bank} ${tradeId}: no ${what} within ${ms} ms; last ${JSON.stringify(t)}\n${this.logs()}`);
    }
  }

  /** Both banks' records once both are final. */
  async final(tradeId: string, ms = 60_000): Promise<Readonly<Record<Bank, EscrowWire>>> {
    const isFinal = (t: EscrowWire): boolean => FINAL_STATUSES.includes(t.status);
    const [seller, buyer] = await Promise.all(BANKS.map((b) => this.until(b, tradeId, 'final status', isFinal, ms)));
    return { seller: seller as EscrowWire, buyer: buyer as EscrowWire };
  }

  /** The last lines of every party's log, request lines left out (polling writes many). */
  logs(lines = 25): string {
    return ESCROW_PARTIES.map((p) => {
      const tail = this.gw[p].output
        .split('\n')
        .filter((l) => l !== '' && !l.includes('"msg":"request"'))
        .slice(-lines);
      return `--- ${p}\n${tail.join('\n')}`;
    }).join('\n');
  }
}

/** A bank's instruction of the trade. */
export function instructionOf(bank: Bank, t: EscrowTradeTerms): Record<string, unknown> {
  return {
    tradeId: t.tradeId,
    side: bank === 'seller' ? 'sell' : 'buy',
    counterparty: bank === 'seller' ? 'buyer' : 'seller',
    isin: t.isin,
    quantity: t.quantity.toString(),
    price: t.price.toString(),
    currency: t.currency ?? 'EUR',
    mode: 'escrow_orchestrated',
    escrow: {
      manager: 'manager',
      ...(t.notary !== false && { notary: 'notary' }),
      ...(t.observer !== false && { observer: 'observer' }),
    },
    settlementDeadline: t.settlementDeadline,
    partial: 'NPAR',
  };
}

/**
 * Writes every party's config (each told every other's URL) and returns the processes, not
 * started: call {@link EscrowParties.start}.
 */
export async function escrowParties(o: Readonly<EscrowPartiesOptions>): Promise<EscrowParties> {
  const ports: Partial<Record<Party, number>> = {};
  for (const p of ESCROW_PARTIES) ports[p] = o.ports?.[p] ?? (await freePort());
  const urls = Object.fromEntries(ESCROW_PARTIES.map((p) => [p, `https://127.0.0.1:${ports[p]}`]));
  const make = (party: Party): GatewayProcess =>
    new GatewayProcess({
      net: o.net,
      party,
      dir: join(o.dir, party),
      port: ports[party] as number,
      peerUrls: Object.fromEntries(Object.entries(urls).filter(([p]) => p !== party)),
      ...(o.leg.gatewayTokens && { securities: o.leg.gatewayTokens }),
      ...(o.escrow && { escrow: o.escrow }),
      ...(party === 'notary' && o.notary && { notary: o.notary }),
      ...(o.env?.[party] && { env: o.env[party] }),
      ...(o.logDir !== undefined && { logFile: join(o.logDir, `gateway-${party}.log`) }),
    });
  const gw = Object.fromEntries(ESCROW_PARTIES.map((p) => [p, make(p)])) as Record<Party, GatewayProcess>;
  return new EscrowParties(o.net, gw);
}

/** {@link escrowParties}, started. */
export async function startEscrowParties(o: Readonly<EscrowPartiesOptions>): Promise<EscrowParties> {
  const parties = await escrowParties(o);
  try {
    await parties.start();
  } catch (err) {
    await parties.kill();
    throw err;
  }
  return parties;
}

// ---- the ledgers ----

/** Both banks' free balances and what the escrows hold, on both ledgers. */
export interface EscrowBalances {
  readonly securities: { readonly seller: bigint; readonly buyer: bigint; readonly escrowed: bigint };
  readonly cash: { readonly seller: bigint; readonly buyer: bigint; readonly escrowed: bigint };
}

/** Reads {@link EscrowBalances}: securities from their ledger, cash from the CashToken. */
export async function escrowBalances(net: NetworkState, leg: SecuritiesLeg): Promise<EscrowBalances> {
  const cash = net.evm.contracts['CashToken'] as Address;
  const [ss, sb, supply, cs, cb, ce] = await Promise.all([
    leg.balance('seller'),
    leg.balance('buyer'),
    leg.supply(),
    balanceOf(net, cash, addressOf(net, 'seller')),
    balanceOf(net, cash, addressOf(net, 'buyer')),
    heldByEscrow(net, cash),
  ]);
  return {
    securities: { seller: ss, buyer: sb, escrowed: supply.escrowed },
    cash: { seller: cs, buyer: cb, escrowed: ce },
  };
}

/** `after − before`, field by field. */
export function balanceDeltas(before: EscrowBalances, after: EscrowBalances): EscrowBalances {
  const d = (k: 'securities' | 'cash') => ({
    seller: after[k].seller - before[k].seller,
    buyer: after[k].buyer - before[k].buyer,
    escrowed: after[k].escrowed - before[k].escrowed,
  });
  return { securities: d('securities'), cash: d('cash') };
}

/** The deltas of a settled trade (`settled`) or of one that moved nothing. */
export function expectedDeltas(quantity: bigint, amount: bigint, settled: boolean): EscrowBalances {
  const q = settled ? quantity : 0n;
  const c = settled ? amount : 0n;
  return {
    securities: { seller: -q, buyer: q, escrowed: 0n },
    cash: { seller: c, buyer: -c, escrowed: 0n },
  };
}

/** Each leg's escrow of the trade, at the id its depositor's `escrow_deposited` step names. */
export async function tradeEscrows(
  net: NetworkState,
  leg: SecuritiesLeg,
  trades: Readonly<Record<Bank, EscrowWire>>,
): Promise<
  Readonly<
    Record<'securities' | 'cash', { readonly escrowId: string; readonly state: string; readonly remaining: bigint }>
  >
> {
  const idOf = (bank: Bank): string => {
    const id = trades[bank].timeline.find((s) => s.event === 'escrow_deposited')?.detail?.['escrowId'];
    if (id === undefined) throw new Error(`${bank}'s timeline of ${trades[bank].tradeId} has no deposit`);
    return id;
  };
  const [sec, cash] = [idOf('seller'), idOf('buyer')];
  // The cash escrow is on the EVM whichever ledger holds the securities.
  const [s, c] = await Promise.all([leg.escrow(sec), evmEscrow(net, cash)]);
  return { securities: { escrowId: sec, ...s }, cash: { escrowId: cash, ...c } };
}

// ---- the parties' own records (read-only, beside the running process) ----

/** A read-only look at a gateway's database (WAL mode: the process keeps writing). */
function readDb<T>(dbFile: string, read: (db: Database.Database) => T): T | undefined {
  if (!existsSync(dbFile)) return undefined;
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The manager's record of a trade (no secret): state, decision, reason, evidence. */
export interface ManagedTradeRow {
  readonly state: string;
  readonly decision: string | null;
  readonly reason: string | null;
  readonly decidedAt: string | null;
  readonly evidence: Readonly<Record<string, string>>;
}

export function managedTrade(manager: GatewayProcess, tradeId: string): ManagedTradeRow | undefined {
  return readDb(manager.dbFile, (db) => {
    const row = db
      .prepare(
        'SELECT state, decision, reason, decided_at AS decidedAt, evidence FROM managed_trades WHERE trade_id = ?',
      )
      .get(tradeId) as (Omit<ManagedTradeRow, 'evidence'> & { evidence: string }) | undefined;
    return row && { ...row, evidence: JSON.parse(row.evidence) as Record<string, string> };
  });
}

/** A gateway's journaled ledger actions of a trade (kind, leg, state), oldest first. */
export function journaledActions(
  gw: GatewayProcess,
  tradeId: string,
): readonly { readonly kind: string; readonly leg: string; readonly state: string }[] {
  return (
    readDb(
      gw.dbFile,
      (db) =>
        db.prepare('SELECT kind, leg, state FROM ledger_actions WHERE trade_id = ? ORDER BY id').all(tradeId) as {
          kind: string;
          leg: string;
          state: string;
        }[],
    ) ?? []
  );
}

/** Polls the party's database until `predicate` holds on what `read` returns, then runs `act` at once. */
export async function whenRecorded<T>(
  read: () => T | undefined,
  predicate: (row: T) => boolean,
  act: () => void | Promise<void>,
  withinMs = 60_000,
): Promise<T> {
  for (const deadline = Date.now() + withinMs; Date.now() < deadline; await sleep(5)) {
    const row = read();
    if (row !== undefined && predicate(row)) {
      await act();
      return row;
    }
  }
  throw new Error(`the awaited record did not appear within ${withinMs} ms`);
}

/** The notary's answer to a request, as its database holds it (the fields of `GET /v1/approvals/{tradeId}`). */
export interface ApprovalView {
  readonly tradeId: string;
  readonly state: string;
  readonly reason?: string;
  readonly decidedBy?: string;
  readonly escrows: Readonly<Record<string, string>>;
  readonly approvals: Readonly<Record<string, string>>;
  readonly answered: boolean;
}

export function notaryApproval(notary: GatewayProcess, tradeId: string): ApprovalView | undefined {
  return readDb(notary.dbFile, (db) => {
    const row = db
      .prepare(
        'SELECT state, reason, decided_by, request, approvals, answered FROM notary_approvals WHERE trade_id = ?',
      )
      .get(tradeId) as
      | {
          state: string;
          reason: string | null;
          decided_by: string | null;
          request: string;
          approvals: string;
          answered: number;
        }
      | undefined;
    if (!row) return undefined;
    const request = JSON.parse(row.request) as Record<string, string>;
    return {
      tradeId,
      state: row.state,
      ...(row.reason !== null && { reason: row.reason }),
      ...(row.decided_by !== null && { decidedBy: row.decided_by }),
      escrows: {
        ...(request['securitiesEscrow'] !== undefined && { securities: request['securitiesEscrow'] }),
        ...(request['cashEscrow'] !== undefined && { cash: request['cashEscrow'] }),
      },
      approvals: JSON.parse(row.approvals) as Record<string, string>,
      answered: row.answered === 1,
    };
  });
}

/** What the notary should have answered. */
export interface ExpectedApproval {
  readonly state: 'approved' | 'refused';
  /** Each leg's escrow id (approved: each with its ledger approval). */
  readonly escrows: Readonly<Record<'securities' | 'cash', string>>;
  /** Refused: a pattern the reason must match. */
  readonly reason?: RegExp;
}

/**
 * What is wrong with the notary's answer (empty: nothing): its database's ({@link notaryApproval})
 * or its API's (`GET /v1/approvals/{tradeId}` answer's `json`), which have the same fields.
 */
export function approvalProblems(a: Partial<ApprovalView> | undefined, want: ExpectedApproval): string[] {
  if (!a) return ['the notary has no request of the trade'];
  const problems: string[] = [];
  if (a.state !== want.state) problems.push(`state is ${a.state}, not ${want.state}`);
  if (a.answered !== true) problems.push('the answer was not delivered to the manager');
  for (const leg of ['securities', 'cash'] as const) {
    if (a.escrows?.[leg]?.toLowerCase() !== want.escrows[leg].toLowerCase())
      problems.push(`the ${leg} escrow is ${a.escrows?.[leg]}, not ${want.escrows[leg]}`);
  }
  if (want.state === 'approved') {
    // Fabric: the notary's own EscrowApprove transaction; EVM: its EIP-712 signature.
    if (!/^(onledger:[0-9a-f]{64}|0x[0-9a-f]{130})$/.test(a.approvals?.['securities'] ?? ''))
      problems.push(`securities approval is ${a.approvals?.['securities']}`);
    if (!/^0x[0-9a-f]{130}$/.test(a.approvals?.['cash'] ?? ''))
      problems.push(`cash approval is ${a.approvals?.['cash']}`);
  }
  if (want.reason && !want.reason.test(a.reason ?? '')) problems.push(`reason is ${a.reason}`);
  return problems;
}

/** One entry of the observer's log, as its database holds it (fields of `GET /v1/observations` entries). */
export interface ObservationView {
  readonly seq: number;
  readonly from: string;
  readonly tradeId: string;
  readonly step: string;
  readonly leg?: string;
  readonly escrowId?: string;
  readonly decision?: string;
  readonly txId?: string;
}

export function observedEntries(observer: GatewayProcess, tradeId: string): readonly ObservationView[] {
  const rows =
    readDb(
      observer.dbFile,
      (db) =>
        db
          .prepare('SELECT seq, from_party, step, envelope FROM observer_log WHERE trade_id = ? ORDER BY seq')
          .all(tradeId) as { seq: number; from_party: string; step: string; envelope: string }[],
    ) ?? [];
  return rows.map((r) => {
    const body = (JSON.parse(r.envelope) as { body?: Record<string, string> }).body ?? {};
    const pick = (k: string) => (body[k] !== undefined ? { [k]: body[k] } : {});
    return {
      seq: r.seq,
      from: r.from_party,
      tradeId,
      step: r.step,
      ...pick('leg'),
      ...pick('escrowId'),
      ...pick('decision'),
      ...pick('txId'),
    };
  });
}

/** What the observer should have been told of a trade. */
export interface ExpectedObservations {
  /** Steps that must each be in the log at least once (protocol order is not checked). */
  readonly steps: readonly string[];
  readonly decision: 'commit' | 'abort';
  /** Each leg's escrow id; each leg's end (`released` / `returned`) must name it. */
  readonly escrows: Readonly<Record<'securities' | 'cash', string>>;
}

/**
 * What is wrong with the observer's log of the trade (empty: nothing): its database's entries
 * ({@link observedEntries}) or its API's (`GET /v1/observations?tradeId=…&verifyLedgers=true`
 * answer's `json.entries`; check its `json.verification` with {@link observationVerificationProblems}).
 */
export function observationProblems(
  entries: readonly Partial<ObservationView>[],
  want: ExpectedObservations,
): string[] {
  const problems: string[] = [];
  const steps = new Set(entries.map((e) => e.step));
  for (const s of want.steps) if (!steps.has(s)) problems.push(`no ${s} record`);
  const decided = entries.filter((e) => e.step === 'decided').map((e) => e.decision);
  if (decided.length === 0 || decided.some((d) => d !== want.decision))
    problems.push(`decided records say ${decided.join(', ') || 'nothing'}, not ${want.decision}`);
  const end = want.decision === 'commit' ? 'released' : 'returned';
  for (const leg of ['securities', 'cash'] as const) {
    const ends = entries.filter((e) => e.step === end && e.leg === leg);
    if (!ends.some((e) => e.escrowId?.toLowerCase() === want.escrows[leg].toLowerCase()))
      problems.push(`no ${end} record of the ${leg} escrow ${want.escrows[leg]}`);
  }
  return problems;
}

/**
 * What is wrong with the verification part of the observer's API answer (`json.verification` of
 * `GET /v1/observations?tradeId=…&verifyLedgers=true`): the chain, every signature and every
 * record against both ledgers must hold.
 */
export function observationVerificationProblems(verification: unknown): string[] {
  const v = (verification ?? {}) as Record<string, { ok?: boolean } | undefined>;
  return ['chain', 'signatures', 'ledgers'].filter((k) => v[k]?.ok !== true).map((k) => `${k} not verified`);
}
