/** Public API of `@dvp/gateway`: factories, config, and the interfaces around them (no classes but errors). */
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
export type { BalanceReader, CashBalance, PartyBalances, SecurityBalance } from './routes';
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
