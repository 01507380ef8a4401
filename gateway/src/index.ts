/**
 * Public API of `@dvp/gateway`: the HTTP/identity layer, the durable engine and its store, the
 * ledger connectors, and the process wiring (`runGateway`). Factories and interfaces only; the
 * only classes are errors.
 */
export { createGateway, startGateway } from './api/server';
export type { Gateway, GatewayDependencies } from './api/server';
export { loadConfig, ConfigError, ENV_OVERRIDES } from './config/config';
export type { EvmConfig, FabricConfig, GatewayConfig, TrustAnchorConfig } from './config/config';
export { createLogger, silentLogger, LOG_LEVELS } from './core/log';
export type { LogFields, Logger, LoggerOptions, LogLevel } from './core/log';
export { createGatewayMetrics, createMetricsRegistry, SETTLEMENT_LATENCY_BUCKETS } from './core/metrics';
export type { Counter, Gauge, GatewayMetrics, Histogram, Labels, MetricsRegistry } from './core/metrics';
export { ERROR_HTTP, RequestError, toHttpError } from './api/errors';
export { DvpError, TradeError } from './core/errors';
export { IdentityError } from './trust/errors';
export { MessagingError } from './messaging/errors';
export type { ApiErrorCode, ErrorBody, RequestErrorCode } from './api/errors';
export type { IdentityErrorCode } from './trust/errors';
export { ACCEPTED_MODES, OPERATIONS, openApiDocument } from './api/openapi';
export type { OperationId, OperationSpec } from './api/openapi';
export { isIsin, isUint256 } from './api/routes';
export type { BalanceReader, CashBalance, PartyBalances, SecurityBalance, UnavailableLedger } from './trades/balances';
export type { DirectoryView } from './trust/directory';
export type { VerifiedIdentity } from './trust/identity';
export type {
  Actor,
  AuditEntry,
  AuditPage,
  AuditQuery,
  SettlementModeName,
  SubmitResult,
  TimelineStep,
  Trade,
  TradeInstruction,
  TradeQuery,
  TradeStatus,
} from './core/trade';
export type { TradeService } from './trades/ports';
export type { TradeErrorCode } from './core/errors';
export { createTradeEngine } from './trades/engine';
export { CANCELLED_REASON } from './trades/cancel';
export type { CounterpartyNotice, ResumeReport, TradeEngine, TradeEngineOptions } from './trades/engine';
export type { SettlementContext, SettlementMessage, SettlementMode, StepRequest } from './settlement/mode';
export { openStore } from './store';
export type { GatewayStore, OpenStoreOptions } from './store';
export { createEvmConnector } from './ledger/evm/connector';
export { LedgerError } from './ledger/errors';
export type { EvmConnectorOptions, EvmLedgerConnector } from './ledger/evm/connector';
export type { LedgerConnector, LedgerEvent } from './ledger/connector';
export type { LedgerErrorCode } from './ledger/errors';
export type { LedgerName } from './core/trade';
export { createLedgerBalanceReader } from './trades/balances';
export type { LedgerBalanceOptions } from './trades/balances';
export { runGateway } from './main';
export type { RunningGateway } from './main';
