/**
 * Where the gateway listens and how long it gives a client: the HTTPS server's timeouts and
 * connection limits (`listen` in the config file). Every limit has a safe default, so a slow or
 * greedy client cannot hold connections for long or take them all.
 */

export interface ListenConfig {
  readonly host: string;
  readonly port: number;
  /** The TLS handshake must finish within this; default 10. */
  readonly handshakeTimeoutSeconds: number;
  /** A request's headers must have arrived within this after the connection started; default 10. */
  readonly headersTimeoutSeconds: number;
  /** The whole request (headers and body) must have arrived within this; default 30. */
  readonly requestTimeoutSeconds: number;
  /** An idle kept-alive connection is closed after this; default 5. */
  readonly keepAliveTimeoutSeconds: number;
  /** Open connections at once, over every client; default 1024. */
  readonly maxConnections: number;
  /** Open connections at once from one client address; default 128. */
  readonly maxConnectionsPerClient: number;
}

const seconds = (maximum: number) => ({ type: 'integer', minimum: 1, maximum }) as const;

/** The JSON schema of the `listen` section. */
export const LISTEN_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['port'],
  properties: {
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    handshakeTimeoutSeconds: seconds(120),
    headersTimeoutSeconds: seconds(120),
    requestTimeoutSeconds: seconds(600),
    keepAliveTimeoutSeconds: seconds(600),
    maxConnections: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    maxConnectionsPerClient: { type: 'integer', minimum: 1, maximum: 1_000_000 },
  },
} as const;

/** Environment variables for the `listen` section (see `ENV_OVERRIDES`). */
export const LISTEN_ENV = {
  DVP_GATEWAY_HOST: { field: 'listen.host', kind: 'string' },
  DVP_GATEWAY_PORT: { field: 'listen.port', kind: 'integer' },
  DVP_GATEWAY_REQUEST_TIMEOUT_SECONDS: { field: 'listen.requestTimeoutSeconds', kind: 'integer' },
  DVP_GATEWAY_MAX_CONNECTIONS: { field: 'listen.maxConnections', kind: 'integer' },
  DVP_GATEWAY_MAX_CONNECTIONS_PER_CLIENT: { field: 'listen.maxConnectionsPerClient', kind: 'integer' },
} as const;

/** The validated section with its defaults. */
export function listenOf(raw: Partial<ListenConfig> & { port: number }): ListenConfig {
  return {
    host: raw.host ?? '127.0.0.1',
    port: raw.port,
    handshakeTimeoutSeconds: raw.handshakeTimeoutSeconds ?? 10,
    headersTimeoutSeconds: raw.headersTimeoutSeconds ?? 10,
    requestTimeoutSeconds: raw.requestTimeoutSeconds ?? 30,
    keepAliveTimeoutSeconds: raw.keepAliveTimeoutSeconds ?? 5,
    maxConnections: raw.maxConnections ?? 1024,
    maxConnectionsPerClient: raw.maxConnectionsPerClient ?? 128,
  };
}
