/**
 * What a route handler receives and returns. Handlers are plain async functions over validated
 * input; they never see express, so they read like the API and test without a server.
 */
import type { DirectoryView } from '../../trust/directory';
import type { GatewayMetrics } from '../../core/metrics';
import type { PeerInbox } from '../../messaging/inbox';
import type { Actor } from '../../core/trade';
import type { TradeService } from '../../trades/ports';
import type { BalanceReader } from '../../trades/balances';
import type { ValidatedRequest } from './validate';

/** Status shown by `GET /healthz`. */
export interface HealthInfo {
  readonly directoryIssuedAt: number;
  readonly crls: readonly { readonly issuer: string; readonly nextUpdate: string | undefined }[];
}

/** Services the handlers use. */
export interface RouteDeps {
  readonly servedParty: string;
  readonly trades: TradeService;
  readonly balances: BalanceReader;
  readonly directory: DirectoryView;
  readonly metrics: GatewayMetrics;
  readonly openapi: unknown;
  readonly health: () => HealthInfo;
  readonly now: () => Date;
  /** Receives other gateways' messages; absent when gateway messaging is not configured. */
  readonly peer?: PeerInbox;
}

/** One request, after identity and validation. `actor` is absent only on public routes. */
export interface RouteContext extends ValidatedRequest {
  readonly actor: Actor | undefined;
  readonly deps: RouteDeps;
}

/** A JSON or text answer. */
export type Reply =
  | { readonly status: number; readonly json: unknown }
  | { readonly status: number; readonly text: string; readonly contentType: string };

export type Handler = (ctx: RouteContext) => Promise<Reply>;

/** The actor of a protected route (the app guarantees it is set). */
export function actorOf(ctx: RouteContext): Actor {
  if (!ctx.actor) throw new Error('route declared public but needs an actor');
  return ctx.actor;
}
