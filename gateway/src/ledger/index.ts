/**
 * Ledger connectors: one interface over both ledgers, the EVM and Fabric implementations (the
 * Fabric one verified only against an in-process fake: no peer can run here), and journaled
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
export { createEvmConnector, type EvmConnectorOptions, type EvmLedgerConnector } from './evm/connector';
export { createFabricConnector, type FabricConnectorOptions, type FabricLedgerConnector } from './fabric/connector';
export { asLedger } from './renamed';
export {
  decodeSpec,
  encodeSpec,
  performAction,
  resumeAction,
  resumeActions,
  type ActionOutcome,
  type ActionSpec,
  type Connectors,
} from '../trades/journal';
export { computeLockId, toBytes32Id } from './evm/ids';
