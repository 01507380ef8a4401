/**
 * The independent conservation and atomicity check, run at the end of the cross-ledger tests that
 * settle trades across both ledgers (two-gateway, orchestrated escrow) and of the demo.
 * It reads both ledgers directly — the securities of the given ISINs on the Fabric peers (or
 * their ERC-20 stand-ins when no Fabric runs) and the cash token on the EVM node — with none of
 * the gateway's code, and reports:
 * - per asset: free + locked + escrowed = issued − redeemed, the ledger's own supply figure
 *   agrees, and every lock and escrow adds up (records.ts);
 * - per trade: every lock or escrow of one of these ISINs is paired, by hashlock or trade key,
 *   with the cash records of the same key, and the trade is at its end with both legs delivered
 *   in matching proportion, or both returned. Trades the test names (with their quantity and
 *   amount) are also checked when they left no securities record.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkState } from '../../../network/src/state';
import { openEvmChain, readEvmToken } from './evm';
import { readFabricIsin } from './fabric';
import {
  byKey,
  conservationProblems,
  hashlockKey,
  tradeKeyOf,
  tradeProblems,
  type AssetReading,
  type LegRecord,
  type TradeTerms,
} from './records';

export type { TradeTerms } from './records';

/** What to check. */
export interface CheckScope {
  /** The ISINs the test used (only they are paired into trades). */
  readonly isins: readonly string[];
  /** The cash token's address. */
  readonly cashToken: string;
  /** Trades the test ran, checked against their terms. */
  readonly trades?: readonly TradeTerms[];
}

export interface CheckResult {
  readonly readings: readonly AssetReading[];
  /** How many trades were paired and checked. */
  readonly trades: number;
  /** Every inconsistency found; empty when the ledgers are consistent. */
  readonly problems: readonly string[];
}

/** The stand-in token of `isin` the two-gateway tests deployed (two-banks.ts remembers it). */
function standInToken(net: NetworkState, isin: string): string {
  const file = join(net.stateDir, `securities-${isin}.json`);
  if (!existsSync(file)) throw new Error(`no securities stand-in token for ${isin} on this network (${file})`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { token: string }).token;
}

const termsKey = (t: TradeTerms): string => (t.hashlock ? hashlockKey(t.hashlock) : tradeKeyOf(t.tradeId));

/** Pairs securities and cash records by key and checks each trade. */
function pairedTradeProblems(
  securities: readonly LegRecord[],
  cash: readonly LegRecord[],
  trades: readonly TradeTerms[],
): { trades: number; problems: string[] } {
  const sec = byKey(securities);
  const pay = byKey(cash);
  const terms = new Map(trades.map((t) => [termsKey(t), t]));
  const keys = new Set([...sec.keys(), ...terms.keys()]);
  const problems = [...keys].flatMap((key) => {
    const t = terms.get(key);
    const label = t ? `trade ${t.tradeId}` : `trade with key ${key}`;
    return tradeProblems(label, { securities: sec.get(key) ?? [], cash: pay.get(key) ?? [] }, t);
  });
  return { trades: keys.size, problems };
}

/** Reads both ledgers and checks conservation and atomicity in `scope`. */
export async function checkLedgers(net: NetworkState, scope: CheckScope): Promise<CheckResult> {
  const chain = await openEvmChain(net);
  const fabric = net.fabric.status === 'up' ? net.fabric : undefined;
  const securities = await Promise.all(
    scope.isins.map((isin) =>
      fabric ? readFabricIsin(net, fabric, isin) : readEvmToken(chain, standInToken(net, isin)),
    ),
  );
  const cash = await readEvmToken(chain, scope.cashToken);
  const readings = [...securities, cash];
  const paired = pairedTradeProblems(
    securities.flatMap((r) => r.records),
    cash.records,
    scope.trades ?? [],
  );
  return {
    readings,
    trades: paired.trades,
    problems: [...readings.flatMap(conservationProblems), ...paired.problems],
  };
}

/** One line per asset, for a test's output when the check fails. */
export function describeReadings(result: CheckResult): string {
  return result.readings
    .map(
      (r) =>
        `${r.asset}: supply ${r.supply}, free ${r.free}, locked ${r.locked}, escrowed ${r.escrowed}, ${r.records.length} records`,
    )
    .join('\n');
}

/**
 * What a cross-ledger test asserts at its end, `expect(await ledgerProblems(net, scope)).toEqual([])`:
 * every problem the checker found, followed by what it read, or nothing.
 */
export async function ledgerProblems(net: NetworkState, scope: CheckScope): Promise<string[]> {
  const result = await checkLedgers(net, scope);
  return result.problems.length === 0 ? [] : [...result.problems, `read: ${describeReadings(result)}`];
}
