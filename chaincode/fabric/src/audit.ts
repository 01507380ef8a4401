/**
 * Auditor views: key history and the per-ISIN conservation breakdown
 * (free + locked + escrowed = issued − redeemed).
 */
import type { SecuritiesContext } from './context';
import { fail } from './errors';
import type { KeyType } from './ledger';
import { Escrow, HistoryEntry, HtlcLock, Holding, Positions, record, SupplyBreakdown } from './model';

const HISTORY_TYPES: readonly KeyType[] = ['instrument', 'balance', 'account', 'htlc', 'escrow', 'config'];

/**
 * Parses an auditor key: `<type>/<id>` for single-part keys (`htlc/L1`, `instrument/US0378331005`)
 * or a JSON array `["balance","<account>","<isin>"]` for any key.
 */
export function parseAuditKey(key: string): { type: KeyType; attrs: string[] } {
  let parts: unknown;
  if (key.startsWith('[')) {
    try {
      parts = JSON.parse(key);
    } catch {
      fail('INVALID_ARGUMENT', 'key is not a JSON array', { key });
    }
  } else {
    const slash = key.indexOf('/');
    parts = slash < 0 ? [key] : [key.slice(0, slash), key.slice(slash + 1)];
  }
  if (!Array.isArray(parts) || parts.length < 2 || !parts.every((p) => typeof p === 'string' && p !== '')) {
    fail('INVALID_ARGUMENT', 'key must be <type>/<id> or ["<type>", ...parts]', { key });
  }
  const [type, ...attrs] = parts as string[];
  if (!(HISTORY_TYPES as readonly string[]).includes(type ?? '')) {
    fail('INVALID_ARGUMENT', `key type must be one of ${HISTORY_TYPES.join(', ')}`, { key });
  }
  return { type: type as KeyType, attrs };
}

/** Every modification of the key, oldest first as the peer returns them. */
export async function history(ctx: SecuritiesContext, key: string): Promise<HistoryEntry[]> {
  const { type, attrs } = parseAuditKey(key);
  const iterator = await ctx.stub.getHistoryForKey(ctx.ledger.key(type, ...attrs));
  const out: HistoryEntry[] = [];
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const m = next.value;
      out.push(
        record(HistoryEntry, {
          isDelete: m.isDelete,
          timestamp: Number(m.timestamp.seconds.toString()),
          txId: m.txId,
          value: m.isDelete ? '' : Buffer.from(m.value).toString('utf8'),
        }),
      );
    }
  } finally {
    await iterator.close();
  }
  return out;
}

/** Every non-zero holding, and every lock and escrow (any status), of one ISIN. */
export async function positions(ctx: SecuritiesContext, isin: string): Promise<Positions> {
  const { ledger } = ctx;
  const instrument = await ledger.instrument(isin);
  const holdings: Holding[] = [];
  for (const entry of await ledger.scan('holder', isin)) {
    const account = ctx.stub.splitCompositeKey(entry.key).attributes[1] ?? '';
    const holding = await ledger.read(Holding, 'balance', account, isin);
    if (holding !== undefined && BigInt(holding.quantity) > 0n) holdings.push(holding);
  }
  const locks = (await ledger.scan('htlc'))
    .map((entry) => record(HtlcLock, JSON.parse(entry.value) as HtlcLock))
    .filter((lock) => lock.isin === isin);
  const escrows = (await ledger.scan('escrow'))
    .map((entry) => record(Escrow, JSON.parse(entry.value) as Escrow))
    .filter((escrow) => escrow.isin === isin);
  return record(Positions, { escrows, holdings, instrument, locks });
}

/** Sums free balances (via the holder index), open locks and open escrows of one ISIN. */
export async function supplyBreakdown(ctx: SecuritiesContext, isin: string): Promise<SupplyBreakdown> {
  const { holdings, instrument, locks, escrows } = await positions(ctx, isin);
  const sum = (values: readonly string[]): bigint => values.reduce((total, v) => total + BigInt(v), 0n);
  const free = sum(holdings.map((h) => h.quantity));
  const locked = sum(locks.filter((lock) => lock.status === 'LOCKED').map((lock) => lock.quantity));
  const escrowed = sum(escrows.map((escrow) => escrow.remaining));
  const supply = BigInt(instrument.issued) - BigInt(instrument.redeemed);
  return record(SupplyBreakdown, {
    escrowed: escrowed.toString(),
    free: free.toString(),
    isin,
    locked: locked.toString(),
    supply: supply.toString(),
  });
}
