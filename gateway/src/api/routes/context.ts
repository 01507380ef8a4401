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
import type { EscrowManager } from '../../settlement/escrow-orchestrated/manager';
import type { Notary } from '../../settlement/notary/notary';
import type { Observer } from '../../settlement/observer/observer';
import { RequestError } from '../errors';
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
  /** The escrow manager's service, on a gateway that runs as one (config role `escrow-manager`). */
  readonly manager?: EscrowManager;
  /** The notary's service, on a gateway that runs as one (config role `notary`). */
  readonly notary?: Notary;
  /** The observer's service, on a gateway that runs as one (config role `observer`). */
  readonly observer?: Observer;
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

/** The services of the parties of their own, by the config role that runs each. */
const ROLE_SERVICES = {
  manager: { role: 'escrow-manager', message: 'this gateway is not an escrow manager' },
  notary: { role: 'notary', message: 'this gateway is not a notary' },
  observer: { role: 'observer', message: 'this gateway is not an observer' },
} as const;

/**
 * The service of one of the orchestrated escrow's parties of their own, or `ROLE_NOT_SERVED` (404)
 * when this gateway does not run that role (a bank's gateway runs none of them).
 */
export function serviceOf<K extends keyof typeof ROLE_SERVICES>(ctx: RouteContext, key: K): NonNullable<RouteDeps[K]> {
  const service = ctx.deps[key];
  if (service === undefined) {
    const { role, message } = ROLE_SERVICES[key];
    throw new RequestError('ROLE_NOT_SERVED', message, { role, servedParty: ctx.deps.servedParty });
  }
  return service as NonNullable<RouteDeps[K]>;
}

/** The `{id}` path parameter (validated as a trade id). */
export function tradeIdOf(ctx: RouteContext): string {
  const id = ctx.params['id'];
  if (id === undefined) throw new Error('route has no {id} parameter');
  return id;
}
