/**
 * @dvp/securities-chaincode: tokenized securities with HTLC and escrow, for fabric-contract-api.
 * `contracts` is what `fabric-chaincode-node server` loads (chaincode-as-a-service).
 */
import { SecuritiesContract } from './contract';

export { SecuritiesContract } from './contract';
export { ERROR_CODES, ChaincodeError, parseChaincodeError } from './errors';
export type { ErrorCode, ErrorData, ParsedChaincodeError } from './errors';
export type { EventType } from './events';
export { isValidIsin } from './isin';
export { identityAccount } from './identity';
export { escrowIdOf } from './escrow';
export { Account, Escrow, HistoryEntry, Holding, HtlcLock, Instrument, Positions, SupplyBreakdown } from './model';
export type { EscrowStatus, HtlcStatus } from './model';
export { DEFAULT_POLICY, TRANSACTIONS, loadConfig, parsePolicy } from './policy';
export type { AccessPolicy, ChaincodeConfig, TransactionName } from './policy';
export { canonicalJson } from './canonical';

/** The contracts of this chaincode, as fabric-chaincode-node expects. */
export const contracts = [SecuritiesContract];
