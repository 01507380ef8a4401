/** Settlement modes: HTLC (DESIGN.md 3.1) and what it needs around it. */
export { createHtlcMode, type HtlcMode, type HtlcModeOptions } from './htlc/driver';
export {
  createMessageHub,
  type HtlcMessageType,
  type MessageHub,
  type MessageReceiver,
  type OutgoingMessage,
  type SettlementMessenger,
} from './messenger';
export { HTLC_EVENTS, readProgress, type HtlcProgress, type LockNotice, type OwnLock } from './htlc/progress';
export {
  createSecretStore,
  hashlockOf,
  isPreimageOf,
  newSecret,
  type HtlcSecret,
  type SecretStore,
} from './htlc/secrets';
export {
  assertTimelocks,
  HtlcConfigError,
  planOf,
  verifyLock,
  type ExpectedLock,
  type HtlcConfig,
  type HtlcFailure,
  type HtlcPlan,
  type HtlcRole,
  type HtlcTimelocks,
  type Leg,
  type LockCheck,
  type TradeSide,
} from './htlc/terms';
