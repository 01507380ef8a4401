/**
 * The observer's check of its records against the ledgers: for every record that names a ledger
 * and an escrow, the escrow is read on that ledger and must exist, belong to the record's trade
 * and carry the amount, beneficiary and depositor the record names; a record of the escrow
 * `released` or `returned` must match its state now (a `held` record may have moved on since). A
 * ledger that cannot be read is a mismatch too: the observer reports, it never throws.
 */
import type { LedgerName } from '../../core/trade';
import type { EscrowView, LedgerConnector } from '../../ledger/connector';
import type { ObserverRecord } from './record';

/** One record that the ledger does not bear out, and why. */
export interface LedgerMismatch {
  readonly seq: number;
  readonly reason: string;
}

/** Result of the ledger check: `checked` counts the records that name a ledger and an escrow. */
export interface LedgerVerification {
  readonly ok: boolean;
  readonly checked: number;
  readonly mismatches: readonly LedgerMismatch[];
}

/** A logged record to check: its seq, its trade and its parsed body (undefined if it no longer parses). */
export interface CheckedRecord {
  readonly seq: number;
  readonly tradeId: string;
  readonly record: ObserverRecord | undefined;
}

/** The ledger connectors the observer reads with; a ledger without one is unavailable. */
export type ObserverConnectors = Partial<Record<LedgerName, LedgerConnector>>;

type EscrowRead = { readonly escrow: EscrowView | undefined } | { readonly unavailable: string };

/** Reads each escrow once per check, however many records name it. */
function escrowReader(connectors: ObserverConnectors): (ledger: LedgerName, escrowId: string) => Promise<EscrowRead> {
  const reads = new Map<string, Promise<EscrowRead>>();
  const read = async (ledger: LedgerName, escrowId: string): Promise<EscrowRead> => {
    const connector = connectors[ledger];
    if (!connector) return { unavailable: `this observer has no ${ledger} connector` };
    try {
      return { escrow: await connector.readEscrow(escrowId) };
    } catch (err) {
      return { unavailable: err instanceof Error ? err.message : String(err) };
    }
  };
  return (ledger, escrowId) => {
    const key = `${ledger}\u0000${escrowId}`;
    let pending = reads.get(key);
    if (!pending) {
      pending = read(ledger, escrowId);
      reads.set(key, pending);
    }
    return pending;
  };
}

/** EVM addresses compare case-insensitively (EIP-55 checksums); Fabric account ids exactly. */
function sameParty(ledger: LedgerName, a: string, b: string): boolean {
  return ledger === 'evm' ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/**
 * Whether the escrow belongs to trade `tradeId`: it says so, or (a ledger that keeps a digest of
 * the trade id, as the EVM's bytes32) its id is the one its ledger derives from its depositor and
 * that trade.
 */
function ofTrade(tradeId: string, escrow: EscrowView, connector: LedgerConnector): boolean {
  if (escrow.tradeId === tradeId) return true;
  try {
    return connector.escrowIdOf(tradeId, escrow.depositor).toLowerCase() === escrow.escrowId.toLowerCase();
  } catch {
    return false;
  }
}

/** What `escrow`, read on `ledger`, contradicts in `record` (of trade `tradeId`), one reason each. */
function contradictions(
  tradeId: string,
  ledger: LedgerName,
  record: ObserverRecord,
  escrow: EscrowView,
  connector: LedgerConnector,
): string[] {
  const reasons: string[] = [];
  if (!ofTrade(tradeId, escrow, connector)) reasons.push(`escrow ${escrow.escrowId} is of trade ${escrow.tradeId}`);
  if (record.amount !== undefined && record.amount !== escrow.amount) {
    reasons.push(`amount ${record.amount} recorded, ${escrow.amount} on ${ledger}`);
  }
  for (const field of ['beneficiary', 'depositor'] as const) {
    const recorded = record[field];
    if (recorded !== undefined && !sameParty(ledger, recorded, escrow[field])) {
      reasons.push(`${field} ${recorded} recorded, ${escrow[field]} on ${ledger}`);
    }
  }
  if (record.state !== undefined && record.state !== 'held' && record.state !== escrow.state) {
    reasons.push(`state ${record.state} recorded, ${escrow.state} on ${ledger}`);
  }
  return reasons;
}

/** Checks every record of `records` that names a ledger and an escrow against that ledger. */
export async function verifyOnLedgers(
  records: readonly CheckedRecord[],
  connectors: ObserverConnectors,
): Promise<LedgerVerification> {
  const read = escrowReader(connectors);
  const onLedger = records.flatMap(({ seq, tradeId, record }) =>
    record?.ledger !== undefined && record.escrowId !== undefined
      ? [{ seq, tradeId, record, ledger: record.ledger, escrowId: record.escrowId }]
      : [],
  );
  const results = await Promise.all(
    onLedger.map(async ({ seq, tradeId, record, ledger, escrowId }): Promise<LedgerMismatch[]> => {
      const got = await read(ledger, escrowId);
      if ('unavailable' in got) return [{ seq, reason: `ledger unavailable: ${got.unavailable}` }];
      if (!got.escrow) return [{ seq, reason: `escrow ${escrowId} not found on ${ledger}` }];
      const connector = connectors[ledger] as LedgerConnector; // read above, so present
      return contradictions(tradeId, ledger, record, got.escrow, connector).map((reason) => ({ seq, reason }));
    }),
  );
  const mismatches = results.flat();
  return { ok: mismatches.length === 0, checked: onLedger.length, mismatches };
}
