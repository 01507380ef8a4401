/**
 * Auditor views: key history and the per-ISIN conservation breakdown
 * (free + locked + escrowed = issued − redeemed).
 */
import type { SecuritiesContext } from './context';
import { fail } from './errors';
import type { KeyType } from './ledger';
import { Escrow, HistoryEntry, HtlcLock, Holding, record, SupplyBreakdown } from './model';

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

/** Sums free balances (via the holder index), open locks and open escrows of one ISIN. */
export async function supplyBreakdown(ctx: SecuritiesContext, isin: string): Promise<SupplyBreakdown> {
  const { ledger } = ctx;
  const instrument = await ledger.instrument(isin);
  let free = 0n;
  for (const entry of await ledger.scan('holder', isin)) {
    const account = ctx.stub.splitCompositeKey(entry.key).attributes[1] ?? '';
    const holding = await ledger.read(Holding, 'balance', account, isin);
    free += BigInt(holding?.quantity ?? '0');
  }
  let locked = 0n;
  for (const entry of await ledger.scan('htlc')) {
    const lock = JSON.parse(entry.value) as HtlcLock;
    if (lock.isin === isin && lock.status === 'LOCKED') locked += BigInt(lock.quantity);
  }
  let escrowed = 0n;
  for (const entry of await ledger.scan('escrow')) {
    const escrow = JSON.parse(entry.value) as Escrow;
    if (escrow.isin === isin) escrowed += BigInt(escrow.remaining);
  }
  const supply = BigInt(instrument.issued) - BigInt(instrument.redeemed);
  return record(SupplyBreakdown, {
    escrowed: escrowed.toString(),
    free: free.toString(),
    isin,
    locked: locked.toString(),
    supply: supply.toString(),
  });
}
