/**
 * The orchestrated escrow's five parties as real gateway processes on the shared local network,
 * for the escrow process tests and `make demo`: the seller's and the buyer's banks, the escrow
 * manager, the notary and the observer, each with its own folder, database and port, each told
 * every other's URL. It instructs a matched orchestrated trade on both banks, waits for both
 * banks' final status, and reads what the ledgers hold (securities on Fabric, or the EVM stand-in;
 * cash on anvil). Checks of the notary's and observer's operator API answers are plain functions
 * over the GET answer, usable by jest and the demo alike, in escrow-records.ts, which also reads
 * the parties' own databases meanwhile.
 */
import { join } from 'node:path';
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
  readonly net: NetworkState;
  readonly #trader: Readonly<Record<Bank, Pem>>;

  constructor(net: NetworkState, gw: Readonly<Record<Party, GatewayProcess>>) {
    this.net = net;
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
    return partyPem(this.net, party, party === 'seller' || party === 'buyer' ? 'trader' : 'admin');
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
