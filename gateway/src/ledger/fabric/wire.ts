/**
 * The two Fabric protobuf messages the connector builds or reads itself, hand-encoded so the
 * gateway needs no direct dependency on `@hyperledger/fabric-protos` (fabric-gateway's own):
 *
 * - `gateway.SignedCommitStatusRequest` { bytes request = 1; bytes signature = 2; } around
 *   `gateway.CommitStatusRequest` { string transaction_id = 1; string channel_id = 2; bytes identity = 3; }
 *   with `msp.SerializedIdentity` { string mspid = 1; bytes id_bytes = 2; } as identity: what
 *   `Gateway.newCommit` parses to ask the commit status of a transaction id after a restart.
 * - `common.BlockchainInfo` { uint64 height = 1; ... }: what qscc `GetChainInfo` returns.
 *
 * Only length-delimited fields are written and only varints are read; the test cross-checks
 * both against fabric-protos.
 */
import type { Identity } from '@hyperledger/fabric-gateway';

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return out;
}

/** One length-delimited field (wire type 2). */
function field(no: number, value: Uint8Array | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  return Buffer.concat([Buffer.from(varint(BigInt((no << 3) | 2))), Buffer.from(varint(BigInt(bytes.length))), bytes]);
}

/** An unsigned `SignedCommitStatusRequest` for `txId` (the SDK signs it on `getStatus`). */
export function commitStatusRequestBytes(txId: string, channel: string, identity: Identity): Uint8Array {
  const creator = Buffer.concat([field(1, identity.mspId), field(2, identity.credentials)]);
  const request = Buffer.concat([field(1, txId), field(2, channel), field(3, creator)]);
  return field(1, request);
}

function readVarint(bytes: Uint8Array, at: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let i = at; i < bytes.length; i += 1) {
    const byte = bytes[i] ?? 0;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
    shift += 7n;
  }
  throw new Error('truncated varint');
}

/** The `height` of a serialized `BlockchainInfo` (blocks 0 .. height-1 exist). */
export function chainHeight(bytes: Uint8Array): bigint {
  let at = 0;
  while (at < bytes.length) {
    const tag = readVarint(bytes, at);
    const no = Number(tag.value >> 3n);
    const wire = Number(tag.value & 7n);
    if (wire === 0) {
      const v = readVarint(bytes, tag.next);
      if (no === 1) return v.value;
      at = v.next;
    } else if (wire === 2) {
      const len = readVarint(bytes, tag.next);
      at = len.next + Number(len.value);
    } else {
      throw new Error(`unexpected wire type ${wire} in BlockchainInfo`);
    }
  }
  return 0n; // proto3 omits a zero height
}
