import type { Address, Hex } from 'viem';

/** What a notary signs (EIP-712) to approve one release from a `SettlementEscrow`. */
export interface ReleaseApproval {
  readonly escrowId: Hex;
  readonly amount: bigint;
  /** The escrow's current `releaseNonce` (see `getEscrow`); each approval is usable once. */
  readonly nonce: bigint;
}

/**
 * EIP-712 typed data for a notary's release approval, ready for viem's `signTypedData`. The
 * domain binds the approval to one escrow contract on one chain.
 */
export function releaseApprovalTypedData(escrow: Address, chainId: number, approval: Readonly<ReleaseApproval>) {
  return {
    domain: { name: 'SettlementEscrow', version: '1', chainId, verifyingContract: escrow },
    types: {
      Release: [
        { name: 'escrowId', type: 'bytes32' },
        { name: 'amount', type: 'uint256' },
        { name: 'nonce', type: 'uint64' },
      ],
    },
    primaryType: 'Release',
    message: { escrowId: approval.escrowId, amount: approval.amount, nonce: approval.nonce },
  } as const;
}
