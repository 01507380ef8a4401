/**
 * Public API of `@dvp/gateway`: what another program needs to embed a gateway. Run the whole
 * process from a configuration (`runGateway`), or serve the HTTP surface over a trade service of
 * your own (`createGateway` / `startGateway`), with the types a client of the API reads. Everything
 * else is internal (gateway/README.md, "Layout").
 */
export { runGateway } from './main';
export type { RunningGateway } from './main';
export { ConfigError, ENV_OVERRIDES, loadConfig } from './config/config';
export type { GatewayConfig } from './config/config';
export { createGateway, startGateway } from './api/server';
export type { Gateway, GatewayDependencies } from './api/server';
export { openApiDocument } from './api/openapi';
export type { ApiErrorCode, ErrorBody } from './api/errors';
export { DvpError } from './core/errors';
export { createLogger, silentLogger } from './core/log';
export type { Logger, LogLevel } from './core/log';
export type { TradeService } from './trades/ports';
export type { BalanceReader, CashBalance, PartyBalances, SecurityBalance, UnavailableLedger } from './trades/balances';
export type {
  Actor,
  AuditEntry,
  AuditPage,
  AuditQuery,
  LedgerName,
  LegName,
  SettlementModeName,
  SubmitResult,
  TimelineStep,
  Trade,
  TradeInstruction,
  TradeQuery,
  TradeStatus,
} from './core/trade';
