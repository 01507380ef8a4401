/**
 * Test-only helpers: a throw-away anvil node with time travel, and mock tokens that misbehave
 * (fee on transfer, re-entrancy). Not part of the product exports.
 */
export { startAnvil, anvilAccount, ANVIL_MNEMONIC, type Anvil, type AnvilOptions } from './anvil';
export { feeOnTransferTokenAbi, feeOnTransferTokenBytecode } from '../generated/testing/fee-on-transfer-token';
export { reentrantTokenAbi, reentrantTokenBytecode } from '../generated/testing/reentrant-token';
