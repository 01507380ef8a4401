/**
 * What the independent ledger checker works on: every record that holds units of one asset on one
 * ledger (free balances, HTLC locks, escrows), read straight from the ledger, and the checks that
 * need no ledger: conservation per asset, and atomicity per trade across the two legs.
 */
import { keccak256, stringToHex } from 'viem';

/** A lock or an escrow: what went in, what went to the beneficiary, what went back. */
export interface LegRecord {
  readonly ledger: 'fabric' | 'evm';
  readonly kind: 'htlc' | 'escrow';
  readonly id: string;
  /**
   * What ties the record to its trade on the other ledger: the hashlock of an HTLC lock (64
   * lower-case hex, no 0x), or the trade key of an escrow ({@link tradeKeyOf}).
   */
  readonly key: string;
  readonly deposited: bigint;
  readonly delivered: bigint;
  readonly returned: bigint;
  /** Still holding units: neither delivered nor returned in full. */
  readonly open: boolean;
}

/** One asset on one ledger, as the checker read it. */
export interface AssetReading {
  /** `fabric <ISIN>` or `evm <token address>`. */
  readonly asset: string;
  /** Issued − redeemed (Fabric: the instrument's counters; EVM: mints − burns from the logs). */
  readonly supply: bigint;
  /** The ledger's own figure for the supply (Fabric: SupplyBreakdown; EVM: totalSupply). */
  readonly reportedSupply: bigint;
  readonly free: bigint;
  /** What the HTLC holds (EVM: the contract's balance; Fabric: the open locks). */
  readonly locked: bigint;
  /** What escrows hold (EVM: the contract's balance; Fabric: the open escrows' remainders). */
  readonly escrowed: bigint;
  readonly records: readonly LegRecord[];
  /** Inconsistencies found while reading (a record that does not add up). */
  readonly problems: readonly string[];
}

/** The sum of `values`. */
export const sum = (values: readonly bigint[]): bigint => values.reduce((a, b) => a + b, 0n);

/** A lock or escrow whose figures do not add up. */
function recordProblems(asset: string, x: LegRecord): string[] {
  const out: string[] = [];
  if (x.delivered + x.returned > x.deposited || x.delivered < 0n || x.returned < 0n) {
    out.push(`${asset}: ${x.kind} ${x.id} paid out ${x.delivered} + ${x.returned}, more than its ${x.deposited}`);
  }
  if (x.open !== x.delivered + x.returned < x.deposited) {
    out.push(`${asset}: ${x.kind} ${x.id} is ${x.open ? 'open' : 'closed'} with ${x.deposited} deposited`);
  }
  return out;
}

/** free + locked + escrowed = issued − redeemed, and the open records account for the held units. */
export function conservationProblems(r: AssetReading): string[] {
  const out = [...r.problems];
  const total = r.free + r.locked + r.escrowed;
  if (total !== r.supply) {
    out.push(
      `${r.asset}: free ${r.free} + locked ${r.locked} + escrowed ${r.escrowed} = ${total} ≠ supply ${r.supply}`,
    );
  }
  if (r.reportedSupply !== r.supply) {
    out.push(`${r.asset}: the ledger reports a supply of ${r.reportedSupply}, issued − redeemed is ${r.supply}`);
  }
  const held = (kind: LegRecord['kind']) =>
    sum(r.records.filter((x) => x.kind === kind).map((x) => x.deposited - x.delivered - x.returned));
  if (held('htlc') !== r.locked) out.push(`${r.asset}: open locks hold ${held('htlc')}, the HTLC holds ${r.locked}`);
  if (held('escrow') !== r.escrowed) {
    out.push(`${r.asset}: open escrows hold ${held('escrow')}, the escrows hold ${r.escrowed}`);
  }
  out.push(...r.records.flatMap((x) => recordProblems(r.asset, x)));
  return out;
}

/** What a test knows of a trade it ran, to be checked against both ledgers. */
export interface TradeTerms {
  readonly tradeId: string;
  /** The hashlock of an HTLC trade (hex, 0x optional); escrow trades are found by trade id. */
  readonly hashlock?: string;
  readonly quantity: bigint;
  readonly amount: bigint;
}

interface Legs {
  readonly securities: readonly LegRecord[];
  readonly cash: readonly LegRecord[];
}

const totals = (records: readonly LegRecord[]) => ({
  deposited: sum(records.map((r) => r.deposited)),
  delivered: sum(records.map((r) => r.delivered)),
  open: records.some((r) => r.open),
});

/** Deliveries against the trade's quantity and amount. */
function termsProblems(label: string, securities: bigint, cash: bigint, terms: TradeTerms): string[] {
  const out: string[] = [];
  if (securities * terms.amount !== cash * terms.quantity) {
    out.push(`${label}: ${securities} securities for ${cash} cash is not ${terms.quantity} for ${terms.amount}`);
  }
  if (securities > terms.quantity || cash > terms.amount) {
    out.push(`${label}: delivered more than the trade (${securities} securities, ${cash} cash)`);
  }
  return out;
}

/**
 * A trade at its end: nothing of it still held, and both legs delivered in matching proportion
 * (securities delivered × cash deposited = cash delivered × securities deposited), which includes
 * both returned in full. With terms, deliveries are also checked against quantity and amount.
 */
export function tradeProblems(label: string, legs: Legs, terms?: TradeTerms): string[] {
  const s = totals(legs.securities);
  const c = totals(legs.cash);
  const out: string[] = [];
  if (s.open || c.open) out.push(`${label}: not at its end (${s.open ? 'securities' : 'cash'} still held)`);
  const proportional =
    s.deposited === 0n || c.deposited === 0n
      ? s.delivered === 0n && c.delivered === 0n
      : s.delivered * c.deposited === c.delivered * s.deposited;
  if (!proportional) {
    out.push(
      `${label}: not atomic: ${s.delivered} of ${s.deposited} securities delivered, ${c.delivered} of ${c.deposited} cash`,
    );
  }
  if (terms !== undefined) out.push(...termsProblems(label, s.delivered, c.delivered, terms));
  return out;
}

/** Groups records by their key. */
export function byKey(records: readonly LegRecord[]): Map<string, LegRecord[]> {
  const out = new Map<string, LegRecord[]>();
  for (const r of records) out.set(r.key, [...(out.get(r.key) ?? []), r]);
  return out;
}

/** A hashlock as a record key: 64 lower-case hex, no 0x. */
export const hashlockKey = (hashlock: string): string => hashlock.toLowerCase().replace(/^0x/, '');

/**
 * The trade key of an escrow: the bytes32 trade id the EVM escrow stores (64 lower-case hex, no
 * 0x): a trade id that is already 0x + 64 hex as it is, else keccak256 of its UTF-8 bytes — the
 * rule SettlementEscrow's callers follow. Fabric escrows store the trade id itself.
 */
export function tradeKeyOf(tradeId: string): string {
  const hex = /^0x[0-9a-fA-F]{64}$/.test(tradeId) ? tradeId : keccak256(stringToHex(tradeId));
  return hex.toLowerCase().slice(2);
}
