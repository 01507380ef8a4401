/**
 * Cash contracts (Solidity) for the EVM leg of DvP: ABIs and bytecode typed for viem, a deploy
 * helper, the escrow id derivation and the map from custom errors to the shared failure codes. Test-only helpers (anvil,
 * mock tokens) are in `@dvp/cash-contracts/testing`.
 */
export { cashTokenAbi, cashTokenBytecode } from './generated/cash-token';
export { hashedTimelockAbi, hashedTimelockBytecode } from './generated/hashed-timelock';
export { settlementEscrowAbi, settlementEscrowBytecode } from './generated/settlement-escrow';
export { deployCashContracts, type CashDeployment, type CashDeployOptions } from './deploy';
export {
  CASH_ERROR_CODES,
  cashErrorAbi,
  decodeCashRevert,
  type CashErrorCode,
  type CashErrorName,
  type CashRevert,
} from './errors';
export { lockState, escrowState, PREIMAGE_LENGTH } from './states';
export { releaseApprovalTypedData, type ReleaseApproval } from './notary';
export { computeEscrowId } from './escrow-id';
