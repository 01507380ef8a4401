/**
 * Ledger connectors: one interface over both ledgers, the EVM implementation, and journaled
 * (exactly-once across restarts) ledger actions.
 */
export type {
  BeforeSend,
  EscrowDepositRequest,
  EscrowView,
  EventFollower,
  LedgerConnector,
  LedgerEvent,
  LedgerEventHandler,
  LedgerName,
  LockOutcome,
  LockRequest,
  LockView,
  PreparedResolution,
  PreparedTx,
  SendOptions,
  TxOutcome,
} from './connector';
export { LedgerError, type LedgerErrorCode } from './errors';
export { createEvmConnector, type EvmConnectorOptions, type EvmLedgerConnector } from './evm';
export {
  decodeSpec,
  encodeSpec,
  performAction,
  resumeAction,
  resumeActions,
  type ActionOutcome,
  type ActionSpec,
  type Connectors,
} from './journaled';
export { computeLockId, toBytes32Id } from './evm-ids';
