/**
 * The securities of one ISIN on the real Fabric peers, read by an auditor identity with the
 * chaincode's `Positions` query (every non-zero holding, every lock and escrow as stored) and
 * summed here; `SupplyBreakdown` (the chaincode's own sums) is only compared against.
 */
import { connectPeer, walletIdentity } from '../../../network/src/fabric-client';
import type { FabricUpState, NetworkState } from '../../../network/src/state';
import { hashlockKey, sum, tradeKeyOf, type AssetReading, type LegRecord } from './records';

interface StoredLock {
  readonly lockId: string;
  readonly hashlock: string;
  readonly quantity: string;
  readonly status: 'LOCKED' | 'CLAIMED' | 'REFUNDED';
}

interface StoredEscrow {
  readonly escrowId: string;
  readonly tradeId: string;
  readonly quantity: string;
  readonly released: string;
  readonly returned: string;
  readonly remaining: string;
  readonly status: 'OPEN' | 'RELEASED' | 'RETURNED';
}

interface StoredPositions {
  readonly instrument: { readonly issued: string; readonly redeemed: string };
  readonly holdings: readonly { readonly account: string; readonly quantity: string }[];
  readonly locks: readonly StoredLock[];
  readonly escrows: readonly StoredEscrow[];
}

function lockRecord(l: StoredLock): LegRecord {
  const quantity = BigInt(l.quantity);
  return {
    ledger: 'fabric',
    kind: 'htlc',
    id: l.lockId,
    key: hashlockKey(l.hashlock),
    deposited: quantity,
    delivered: l.status === 'CLAIMED' ? quantity : 0n,
    returned: l.status === 'REFUNDED' ? quantity : 0n,
    open: l.status === 'LOCKED',
  };
}

function escrowRecord(e: StoredEscrow): LegRecord {
  return {
    ledger: 'fabric',
    kind: 'escrow',
    id: e.escrowId,
    key: tradeKeyOf(e.tradeId),
    deposited: BigInt(e.quantity),
    delivered: BigInt(e.released),
    returned: BigInt(e.returned),
    open: e.status === 'OPEN',
  };
}

/** An escrow whose own figures do not add up. */
function escrowProblems(isin: string, e: StoredEscrow): string[] {
  const out: string[] = [];
  const [q, rel, ret, rem] = [e.quantity, e.released, e.returned, e.remaining].map(BigInt) as [
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  if (rel + ret + rem !== q) out.push(`fabric ${isin}: escrow ${e.escrowId}: ${rel} + ${ret} + ${rem} ≠ ${q}`);
  if ((e.status === 'OPEN') !== rem > 0n) out.push(`fabric ${isin}: escrow ${e.escrowId} ${e.status} holds ${rem}`);
  return out;
}

/** Reads one ISIN from the issuer org's peer as its auditor. */
export async function readFabricIsin(net: NetworkState, fabric: FabricUpState, isin: string): Promise<AssetReading> {
  const { org, mspId } = fabric.chaincode.issuer;
  const ca = net.fabricCa.orgs[org];
  const peer = fabric.peers[org];
  if (!ca || !peer) throw new Error(`network.json: no CA or peer for org ${org}`);
  const conn = connectPeer(peer, walletIdentity(mspId, ca.wallet, 'auditor'));
  try {
    const contract = conn.contract(fabric.channel, fabric.chaincode.name);
    const text = async (fn: string) => Buffer.from(await contract.evaluateTransaction(fn, isin)).toString('utf8');
    const p = JSON.parse(await text('Positions')) as StoredPositions;
    const reported = JSON.parse(await text('SupplyBreakdown')) as { supply: string };
    const records = [...p.locks.map(lockRecord), ...p.escrows.map(escrowRecord)];
    const held = (kind: LegRecord['kind']) =>
      sum(records.filter((r) => r.kind === kind).map((r) => r.deposited - r.delivered - r.returned));
    return {
      asset: `fabric ${isin}`,
      supply: BigInt(p.instrument.issued) - BigInt(p.instrument.redeemed),
      reportedSupply: BigInt(reported.supply),
      free: sum(p.holdings.map((h) => BigInt(h.quantity))),
      locked: held('htlc'),
      escrowed: sum(p.escrows.map((e) => BigInt(e.remaining))),
      records,
      problems: p.escrows.flatMap((e) => escrowProblems(isin, e)),
    };
  } finally {
    conn.close();
  }
}
