/** Settlement modes: HTLC (DESIGN.md 3.1) and what it needs around it. */
export { createHtlcMode, type HtlcMode, type HtlcModeOptions } from './htlc';
export {
  createMessageHub,
  type HtlcMessageType,
  type MessageHub,
  type MessageReceiver,
  type OutgoingMessage,
  type SettlementMessenger,
} from './messenger';
export { HTLC_EVENTS, readProgress, type HtlcProgress, type LockNotice, type OwnLock } from './progress';
export { createSecretStore, hashlockOf, isPreimageOf, newSecret, type HtlcSecret, type SecretStore } from './secrets';
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
} from './terms';
