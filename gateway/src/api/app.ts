/**
 * The express application: for each documented operation, identity (client certificate) and role
 * check, then the JSON body parser, validation against the OpenAPI document, and the handler.
 * Identity comes before parsing, so an unauthenticated caller learns nothing about validation.
 * One error middleware turns every failure into `{ error: { code, message, details? } }`, and
 * one JSON log line is written per request.
 */
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { RequestError, toHttpError } from './errors';
import { requireRole, type IdentityVerifier, type VerifiedIdentity } from '../trust/identity';
import type { Logger } from '../core/log';
import { OPERATIONS, type OperationId, type OperationSpec } from './openapi';
import { HANDLERS, createValidators, type Reply, type RouteDeps } from './routes';
import type { RequestValidator } from './routes/validate';

export interface AppOptions {
  readonly deps: RouteDeps;
  readonly identity: IdentityVerifier;
  readonly logger: Logger;
  /** Largest accepted JSON body; default `64kb`. */
  readonly bodyLimit?: string;
  /** Told of every handler's work, so shutdown can wait for what is still running. */
  readonly track?: (work: Promise<unknown>) => void;
}

/** Per-request state kept in `res.locals`. */
interface RequestState {
  requestId: string;
  route: string;
  identity?: VerifiedIdentity;
  errorCode?: string;
}

const state = (res: Response): RequestState => res.locals as RequestState;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** `/v1/trades/{id}` → `/v1/trades/:id`. */
export function expressPath(openApiPath: string): string {
  return openApiPath.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

function requestLog(opts: Readonly<AppOptions>): RequestHandler {
  return (req, res, next) => {
    const header = req.get('x-request-id');
    const s = state(res);
    s.requestId = header !== undefined && REQUEST_ID.test(header) ? header : randomUUID();
    s.route = 'unmatched';
    res.setHeader('x-request-id', s.requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const labels = { route: s.route, method: req.method };
      opts.deps.metrics.httpRequests.inc({ ...labels, status: String(res.statusCode) });
      opts.deps.metrics.httpDuration.observe(labels, seconds);
      opts.logger.info('request', {
        requestId: s.requestId,
        method: req.method,
        route: s.route,
        status: res.statusCode,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        party: s.identity?.actor.party,
        role: s.identity?.actor.role,
        subject: s.identity?.actor.subject,
        errorCode: s.errorCode,
      });
    });
    next();
  };
}

function peerCertificate(req: Request): Uint8Array | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  return typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate()?.raw : undefined;
}

function authenticate(opts: Readonly<AppOptions>, id: OperationId, op: OperationSpec): RequestHandler {
  return async (req, res, next) => {
    state(res).route = op.path;
    if (op.roles === 'public') return next();
    const verify = op.caller === 'peer' ? opts.identity.verifyPeer : opts.identity.verify;
    const identity = await verify(peerCertificate(req));
    state(res).identity = identity;
    requireRole(identity.actor, op.roles, `${op.method.toUpperCase()} ${op.path} (${id})`);
    next();
  };
}

function send(res: Response, reply: Reply): void {
  res.status(reply.status);
  if ('json' in reply) res.json(reply.json);
  else res.type(reply.contentType).send(reply.text);
}

function handle(opts: Readonly<AppOptions>, id: OperationId, validate: RequestValidator): RequestHandler {
  return async (req, res) => {
    const validated = validate({
      params: req.params,
      query: req.query,
      headers: req.headers,
      body: req.body as unknown,
      hasJsonBody: req.is('application/json') !== false && req.is('application/json') !== null,
    });
    const work = HANDLERS[id]({ ...validated, actor: state(res).identity?.actor, deps: opts.deps });
    opts.track?.(work);
    send(res, await work);
  };
}

/**
 * Answered before its body arrived (a 401, a 413): node reads and discards the rest after the
 * answer, so the connection can be reused; a body still not in a second after the answer closes
 * the connection (a slow client is not waited for). Closing at once instead would reset a
 * connection whose client is still sending, and the client could lose the answer.
 */
function closeIfBodyLingers(req: Request, res: Response): void {
  res.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => req.socket.destroy(), 1000);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.socket.once('close', () => clearTimeout(timer));
  });
}

function errorMiddleware(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const http = toHttpError(err);
    if (!req.complete) closeIfBodyLingers(req, res);
    state(res).errorCode = http.body.error.code;
    if (http.unexpected) {
      logger.error('request failed', { requestId: state(res).requestId, route: state(res).route, error: err });
    }
    if (res.headersSent) return void res.end();
    res.status(http.status).json(http.body);
  };
}

/**
 * A request no operation took: 405 with `Allow` when its path has other methods (matched the way
 * express matches: case-insensitive, a trailing slash ignored), else 404.
 */
function unrouted(): RequestHandler {
  const paths = new Map<string, { pattern: RegExp; allow: string[] }>();
  for (const op of Object.values(OPERATIONS) as OperationSpec[]) {
    const source = `^${op.path.replace(/[.]/g, '\\.').replace(/\{[A-Za-z0-9_]+\}/g, '[^/]+')}/?$`;
    const entry = paths.get(op.path) ?? { pattern: new RegExp(source, 'i'), allow: [] };
    entry.allow.push(...(op.method === 'get' ? ['GET', 'HEAD'] : [op.method.toUpperCase()]));
    paths.set(op.path, entry);
  }
  return (req, res, next) => {
    const matching = [...paths.values()].filter((p) => p.pattern.test(req.path));
    const allow = [...new Set(matching.flatMap((p) => p.allow))].sort();
    if (allow.length === 0) return next(new RequestError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.path}`));
    res.setHeader('Allow', allow.join(', '));
    next(new RequestError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}`, { allow }));
  };
}

/** Builds the app; every operation in {@link OPERATIONS} and nothing else is routed. */
export function createApp(opts: Readonly<AppOptions>): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLog(opts));
  const json = express.json({ limit: opts.bodyLimit ?? '64kb', strict: true, type: 'application/json' });
  const validators = createValidators();
  for (const [id, op] of Object.entries(OPERATIONS) as [OperationId, OperationSpec][]) {
    app[op.method](expressPath(op.path), authenticate(opts, id, op), json, handle(opts, id, validators[id]));
  }
  app.use(unrouted());
  app.use(errorMiddleware(opts.logger));
  return app;
}
