import { encodeAbiParameters, keccak256, type Address, type Hex } from 'viem';

const ESCROW_ID_TYPES = [{ type: 'address' }, { type: 'bytes32' }] as const;

/**
 * The id `SettlementEscrow` gives `depositor`'s escrow for `tradeId` (its `computeEscrowId`):
 * keccak256(abi.encode(depositor, tradeId)). One escrow per depositor and trade, known before
 * the deposit is sent.
 */
export function computeEscrowId(depositor: Address, tradeId: Hex): Hex {
  return keccak256(encodeAbiParameters(ESCROW_ID_TYPES, [depositor, tradeId]));
}
