/**
 * Ids on the EVM side: bytes32 trade ids from business ids, and HTLC lock and escrow ids computed
 * exactly as `HashedTimelock.computeLockId` and `SettlementEscrow.computeEscrowId` do, so they are
 * known before anything is sent.
 */
import { computeEscrowId as escrowIdOfBytes32 } from '@dvp/cash-contracts';
import { encodeAbiParameters, getAddress, keccak256, stringToHex, type Address, type Hex } from 'viem';
import type { LockRequest } from '../connector';
import { LedgerError } from '../errors';

/** A bytes32 id: kept if already 0x + 64 hex, else keccak256 of the UTF-8 string (as the driver does). */
export function toBytes32Id(id: string): Hex {
  return /^0x[0-9a-fA-F]{64}$/.test(id) ? (id.toLowerCase() as Hex) : keccak256(stringToHex(id));
}

/** 32 bytes of hex (with or without 0x) as lower-case 0x-hex; INVALID_ARGUMENT otherwise. */
export function hex32(value: string): Hex {
  const h = value.startsWith('0x') ? value : `0x${value}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(h)) throw new LedgerError('INVALID_ARGUMENT', 'evm', `not 32 bytes of hex: ${value}`);
  return h.toLowerCase() as Hex;
}

const LOCK_ID_TYPES = ['uint256', 'address', 'address', 'address', 'address', 'uint256', 'bytes32', 'uint64'] as const;

/**
 * The id `htlc` on chain `chainId` gives a lock of `request` by `sender`:
 * keccak256(abi.encode(chainid, htlc, sender, receiver, token, amount, hashlock, expiry)).
 */
export function computeLockId(chainId: number, htlc: Address, sender: Address, request: LockRequest): Hex {
  const values = [
    BigInt(chainId),
    htlc,
    sender,
    getAddress(request.receiver),
    getAddress(request.asset),
    request.amount,
    hex32(request.hashlock),
    BigInt(request.expiry),
  ] as const;
  return keccak256(
    encodeAbiParameters(
      LOCK_ID_TYPES.map((type) => ({ type })),
      values,
    ),
  );
}

/**
 * The id `SettlementEscrow` gives `depositor`'s escrow for the business trade id `tradeId`:
 * keccak256(abi.encode(depositor, {@link toBytes32Id}(tradeId))), its `computeEscrowId`.
 */
export function computeEscrowId(depositor: Address, tradeId: string): Hex {
  return escrowIdOfBytes32(getAddress(depositor), toBytes32Id(tradeId));
}
