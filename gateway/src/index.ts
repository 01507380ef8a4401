/**
 * Public API of `@dvp/gateway`: the HTTP/identity layer, the durable engine and its store, the
 * ledger connectors, and the process wiring (`runGateway`). Factories and interfaces only; the
 * only classes are errors.
 */
export { createGateway, startGateway } from './server';
export type { Gateway, GatewayDependencies } from './server';
export { loadConfig, ConfigError, ENV_OVERRIDES } from './config';
export type { EvmConfig, FabricConfig, GatewayConfig, TrustAnchorConfig } from './config';
export { createLogger, silentLogger, LOG_LEVELS } from './log';
export type { LogFields, Logger, LoggerOptions, LogLevel } from './log';
export { createGatewayMetrics, createMetricsRegistry, SETTLEMENT_LATENCY_BUCKETS } from './metrics';
export type { Counter, Gauge, GatewayMetrics, Histogram, Labels, MetricsRegistry } from './metrics';
export { ERROR_HTTP, GatewayError, toHttpError } from './errors';
export type { ErrorBody, GatewayErrorCode, IdentityErrorCode, RequestErrorCode } from './errors';
export { ACCEPTED_MODES, OPERATIONS, openApiDocument } from './openapi';
export type { OperationId, OperationSpec } from './openapi';
export { isIsin, isUint256 } from './routes';
export type { BalanceReader, CashBalance, PartyBalances, SecurityBalance, UnavailableLedger } from './routes';
export type { DirectoryView } from './directory';
export type { VerifiedIdentity } from './identity';
export { TradeError } from './trade-service';
export type {
  Actor,
  AuditEntry,
  AuditPage,
  AuditQuery,
  SettlementMode,
  SubmitResult,
  TimelineStep,
  Trade,
  TradeErrorCode,
  TradeInstruction,
  TradeQuery,
  TradeService,
  TradeStatus,
} from './trade-service';
export { CANCELLED_REASON, createTradeEngine } from './engine';
export type {
  CounterpartyNotice,
  ResumeReport,
  SettlementContext,
  SettlementMessage,
  SettlementModeDriver,
  StepRequest,
  TradeEngine,
  TradeEngineOptions,
} from './engine';
export { openStore } from './store';
export type { GatewayStore, OpenStoreOptions } from './store';
export { createEvmConnector, LedgerError } from './ledger';
export type {
  EvmConnectorOptions,
  EvmLedgerConnector,
  LedgerConnector,
  LedgerErrorCode,
  LedgerEvent,
  LedgerName,
} from './ledger';
export { createLedgerBalanceReader } from './balances';
export type { LedgerBalanceOptions } from './balances';
export { runGateway } from './main';
export type { RunningGateway } from './main';
export { gatewayConfigFromNetwork, writeGatewayConfig } from './config-from-network';
export type { GatewayConfigFromNetworkOptions } from './config-from-network';
