/**
 * The operator REST API as data: one {@link OperationSpec} per route (path, roles, parameters,
 * body, responses), from which both the OpenAPI 3.1 document (`GET /openapi.json`) and the
 * request validators are built. The app registers exactly these operations, so a route cannot
 * exist without being documented.
 */
import type { Role } from '@dvp/certs';
import { ERROR_HTTP, type GatewayErrorCode } from './errors';
import { PEER_MESSAGE_TYPES } from './peer/envelope';
import type { SettlementMode, TradeStatus } from './trade-service';

/** A JSON Schema (2020-12) object, as used inside OpenAPI 3.1. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** Every operation of the API. */
export type OperationId =
  | 'submitTrade'
  | 'listTrades'
  | 'getTrade'
  | 'cancelTrade'
  | 'getAudit'
  | 'getBalances'
  | 'receivePeerMessage'
  | 'getHealth'
  | 'getMetrics'
  | 'getOpenApi';

/** One route: what it accepts, who may call it, what it answers. */
export interface OperationSpec {
  readonly method: 'get' | 'post';
  /** OpenAPI path template, e.g. `/v1/trades/{id}`. */
  readonly path: string;
  readonly summary: string;
  /** Roles allowed to call it; `public` needs TLS but no client certificate. */
  readonly roles: readonly Role[] | 'public';
  /** Whose certificates are accepted: the served party's (default) or other parties' gateways. */
  readonly caller?: 'own' | 'peer';
  readonly pathParams?: Readonly<Record<string, JsonSchema>>;
  readonly query?: Readonly<Record<string, JsonSchema>>;
  /** Header name (lower case) → schema and whether it is required. */
  readonly headers?: Readonly<Record<string, { readonly schema: JsonSchema; readonly required: boolean }>>;
  /** Name of the request body schema in components. */
  readonly body?: string;
  /** Status → description and response schema name (or a media type for non-JSON answers). */
  readonly responses: Readonly<
    Record<string, { readonly description: string; readonly schema?: string; readonly mediaType?: string }>
  >;
}

/** Settlement modes accepted on `POST /v1/trades` today (escrow modes are added here when ready). */
export const ACCEPTED_MODES: readonly SettlementMode[] = ['htlc'];

export const TRADE_STATUSES: readonly TradeStatus[] = [
  'received',
  'matched',
  'held',
  'pending',
  'failing',
  'partially_settled',
  'settled',
  'cancelled',
  'failed',
];

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const DECIMAL = (description: string, positive: boolean): JsonSchema => ({
  type: 'string',
  pattern: positive ? '^[1-9][0-9]{0,77}$' : '^(0|[1-9][0-9]{0,77})$',
  format: 'uint256',
  description: `${description} Decimal string of an integer, at most 2^256 − 1.`,
});
const obj = (required: readonly string[], properties: Record<string, JsonSchema>): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

/** Reusable schemas (`components.schemas`). */
export const SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  PartyId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
  TradeId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' },
  Isin: {
    type: 'string',
    pattern: '^[A-Z]{2}[A-Z0-9]{9}[0-9]$',
    format: 'isin',
    description: 'ISO 6166, check digit verified.',
  },
  Quantity: DECIMAL('Units of the security, greater than zero.', true),
  Price: DECIMAL('Cash per unit in the currency’s smallest unit, greater than zero.', true),
  Amount: DECIMAL('Amount in the smallest unit.', false),
  Currency: { type: 'string', pattern: '^[A-Z]{3}$' },
  Timestamp: { type: 'string', format: 'date-time' },
  TradeStatus: { enum: TRADE_STATUSES },
  TradeRequest: obj(
    [
      'tradeId',
      'side',
      'counterparty',
      'isin',
      'quantity',
      'price',
      'currency',
      'mode',
      'settlementDeadline',
      'partial',
    ],
    {
      tradeId: ref('TradeId'),
      side: { enum: ['buy', 'sell'] },
      counterparty: ref('PartyId'),
      isin: ref('Isin'),
      quantity: ref('Quantity'),
      price: ref('Price'),
      currency: ref('Currency'),
      mode: { enum: ACCEPTED_MODES },
      settlementDeadline: {
        type: 'integer',
        minimum: 1,
        maximum: 253402300799,
        description: 'Unix seconds, in the future.',
      },
      partial: { enum: ['PART', 'NPAR'] },
    },
  ),
  TimelineStep: {
    type: 'object',
    required: ['at', 'actor', 'event', 'status'],
    properties: {
      at: ref('Timestamp'),
      actor: { type: 'string' },
      event: { type: 'string' },
      status: ref('TradeStatus'),
      ledger: { enum: ['fabric', 'evm'] },
      txId: { type: 'string' },
      block: { type: 'string' },
      detail: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
  Trade: {
    type: 'object',
    required: ['tradeId', 'owner', 'instruction', 'status', 'createdAt', 'updatedAt', 'timeline'],
    properties: {
      tradeId: ref('TradeId'),
      owner: ref('PartyId'),
      instruction: ref('TradeRequest'),
      status: ref('TradeStatus'),
      reason: { type: 'string' },
      createdAt: ref('Timestamp'),
      updatedAt: ref('Timestamp'),
      timeline: { type: 'array', items: ref('TimelineStep') },
    },
  },
  TradeList: obj(['trades'], { trades: { type: 'array', items: ref('Trade') } }),
  AuditEntry: {
    type: 'object',
    required: ['seq', 'at', 'actor', 'party', 'event', 'tradeId', 'prevHash', 'hash'],
    properties: {
      seq: { type: 'integer' },
      at: ref('Timestamp'),
      actor: { type: 'string', description: 'SHA-256 fingerprint of the actor’s certificate.' },
      party: { type: 'string' },
      event: { type: 'string' },
      tradeId: { type: ['string', 'null'] },
      prevHash: { type: 'string' },
      hash: { type: 'string' },
    },
  },
  AuditPage: {
    type: 'object',
    required: ['entries', 'verification'],
    properties: {
      entries: { type: 'array', items: ref('AuditEntry') },
      verification: {
        type: 'object',
        required: ['ok', 'checked'],
        properties: { ok: { type: 'boolean' }, checked: { type: 'integer' }, firstBadSeq: { type: 'integer' } },
      },
    },
  },
  Balances: obj(['party', 'securities', 'cash'], {
    party: ref('PartyId'),
    securities: {
      type: 'array',
      items: obj(['isin', 'free', 'locked'], { isin: ref('Isin'), free: ref('Amount'), locked: ref('Amount') }),
    },
    cash: {
      type: 'array',
      items: obj(['currency', 'free', 'locked'], {
        currency: { type: 'string', description: 'The cash token’s symbol (e.g. `CASH`).' },
        free: ref('Amount'),
        locked: ref('Amount'),
      }),
    },
    unavailable: {
      type: 'array',
      description: 'Ledgers whose balances could not be read (left out above), with the reason.',
      items: obj(['ledger', 'reason'], { ledger: { enum: ['fabric', 'evm'] }, reason: { type: 'string' } }),
    },
  }),
  Health: {
    type: 'object',
    required: ['status', 'party'],
    properties: {
      status: { const: 'ok' },
      party: ref('PartyId'),
      directoryIssuedAt: { type: 'integer' },
      crls: { type: 'array' },
    },
  },
  PeerEnvelope: {
    ...obj(['v', 'id', 'from', 'to', 'tradeId', 'type', 'seq', 'prev', 'sentAt', 'body', 'signer', 'signature'], {
      v: { const: 1 },
      id: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' },
      from: ref('PartyId'),
      to: ref('PartyId'),
      tradeId: ref('TradeId'),
      type: { enum: [...PEER_MESSAGE_TYPES] },
      seq: { type: 'integer', minimum: 1, maximum: 1_000_000 },
      prev: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      sentAt: { type: 'string', format: 'date-time' },
      body: {
        type: 'object',
        maxProperties: 32,
        propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9]{0,63}$' },
        additionalProperties: { type: 'string', maxLength: 1024 },
      },
      signer: { type: 'string', minLength: 1, maxLength: 8192 },
      signature: { type: 'string', pattern: '^[A-Za-z0-9+/]{1,600}={0,2}$' },
    }),
    description: 'A message from another bank’s gateway, signed by it (see gateway/src/peer/envelope.ts).',
  },
  PeerAck: obj(['accepted', 'seq', 'hash'], {
    accepted: { const: true },
    seq: { type: 'integer' },
    hash: { type: 'string' },
  }),
  Error: obj(['error'], {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { enum: Object.keys(ERROR_HTTP) as GatewayErrorCode[] },
        message: { type: 'string' },
        details: {},
      },
    },
  }),
};

const TRADER_OPERATOR: readonly Role[] = ['trader', 'operator'];
const READERS: readonly Role[] = ['trader', 'operator', 'auditor'];
const errors = {
  '400': { description: 'Invalid request', schema: 'Error' },
  '401': { description: 'No valid client certificate', schema: 'Error' },
  '403': { description: 'Role or party not allowed', schema: 'Error' },
};
const tradeIdParam = { id: ref('TradeId') };

/** The API, one entry per operation. */
export const OPERATIONS: Readonly<Record<OperationId, OperationSpec>> = {
  submitTrade: {
    method: 'post',
    path: '/v1/trades',
    summary: 'Instruct a trade (idempotent per Idempotency-Key)',
    roles: TRADER_OPERATOR,
    headers: { 'idempotency-key': { required: true, schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' } } },
    body: 'TradeRequest',
    responses: {
      '201': { description: 'Created', schema: 'Trade' },
      '200': { description: 'Replay of an earlier request with the same key and body', schema: 'Trade' },
      ...errors,
      '409': { description: 'Same key with another body, or trade id taken', schema: 'Error' },
    },
  },
  listTrades: {
    method: 'get',
    path: '/v1/trades',
    summary: 'The caller’s party’s trades',
    roles: READERS,
    query: { status: ref('TradeStatus'), counterparty: ref('PartyId'), from: ref('Timestamp'), to: ref('Timestamp') },
    responses: { '200': { description: 'Trades', schema: 'TradeList' }, ...errors },
  },
  getTrade: {
    method: 'get',
    path: '/v1/trades/{id}',
    summary: 'One trade of the caller’s party, with its timeline',
    roles: READERS,
    pathParams: tradeIdParam,
    responses: {
      '200': { description: 'The trade', schema: 'Trade' },
      ...errors,
      '404': { description: 'No such trade for this party', schema: 'Error' },
    },
  },
  cancelTrade: {
    method: 'post',
    path: '/v1/trades/{id}/cancel',
    summary: 'Cancel a trade that has not settled',
    roles: TRADER_OPERATOR,
    pathParams: tradeIdParam,
    responses: {
      '200': { description: 'The cancelled trade', schema: 'Trade' },
      ...errors,
      '404': { description: 'No such trade for this party', schema: 'Error' },
      '409': { description: 'The trade can no longer be cancelled', schema: 'Error' },
    },
  },
  getAudit: {
    method: 'get',
    path: '/v1/audit',
    summary: 'Hash-chained audit log, with verification of the whole chain',
    roles: ['auditor'],
    query: { tradeId: ref('TradeId'), party: ref('PartyId'), from: ref('Timestamp'), to: ref('Timestamp') },
    responses: { '200': { description: 'Audit entries', schema: 'AuditPage' }, ...errors },
  },
  getBalances: {
    method: 'get',
    path: '/v1/balances',
    summary: 'Securities and cash balances of the caller’s party',
    roles: READERS,
    responses: {
      '200': { description: 'Balances', schema: 'Balances' },
      ...errors,
      '503': { description: 'Ledger unavailable', schema: 'Error' },
    },
  },
  receivePeerMessage: {
    method: 'post',
    path: '/v1/peer/messages',
    summary: 'Gateway to gateway: a signed message of a trade (proposal, affirmation, cancel, lock notice, preimage)',
    roles: ['gateway'],
    caller: 'peer',
    body: 'PeerEnvelope',
    responses: {
      '202': { description: 'Accepted and acted on', schema: 'PeerAck' },
      ...errors,
      '404': { description: 'The message concerns a trade this gateway does not hold', schema: 'Error' },
      '409': { description: 'Replayed, or not the next message of its chain', schema: 'Error' },
      '503': { description: 'Gateway messaging is not configured', schema: 'Error' },
    },
  },
  getHealth: {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness (TLS, no client certificate needed)',
    roles: 'public',
    responses: { '200': { description: 'Up', schema: 'Health' } },
  },
  getMetrics: {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    roles: ['operator', 'auditor'],
    responses: {
      '200': { description: 'Text exposition format 0.0.4', mediaType: 'text/plain; version=0.0.4' },
      ...errors,
    },
  },
  getOpenApi: {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    roles: 'public',
    responses: { '200': { description: 'OpenAPI 3.1 document', mediaType: 'application/json' } },
  },
};

function parameters(op: OperationSpec): JsonSchema[] {
  const list = (
    where: string,
    entries: Readonly<Record<string, JsonSchema>> | undefined,
    required: (n: string) => boolean,
  ) => Object.entries(entries ?? {}).map(([name, schema]) => ({ name, in: where, required: required(name), schema }));
  return [
    ...list('path', op.pathParams, () => true),
    ...list('query', op.query, () => false),
    ...Object.entries(op.headers ?? {}).map(([name, h]) => ({
      name,
      in: 'header',
      required: h.required,
      schema: h.schema,
    })),
  ];
}

function responses(op: OperationSpec): Record<string, JsonSchema> {
  return Object.fromEntries(
    Object.entries(op.responses).map(([status, r]) => [
      status,
      {
        description: r.description,
        content: r.schema
          ? { 'application/json': { schema: ref(r.schema) } }
          : { [r.mediaType ?? 'application/json']: {} },
      },
    ]),
  );
}

function operationObject(id: OperationId, op: OperationSpec): JsonSchema {
  return {
    operationId: id,
    summary: op.summary,
    'x-roles': op.roles,
    ...(op.caller === 'peer' && { 'x-caller': 'another party’s gateway' }),
    security: op.roles === 'public' ? [] : [{ clientCertificate: [] }],
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: ref(op.body) } } } } : {}),
    parameters: parameters(op),
    responses: responses(op),
  };
}

/** Builds the OpenAPI 3.1 document. */
export function openApiDocument(servedParty: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const [id, op] of Object.entries(OPERATIONS) as [OperationId, OperationSpec][]) {
    paths[op.path] = { ...paths[op.path], [op.method]: operationObject(id, op) };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: `DvP settlement gateway (${servedParty})`,
      version: '1.0.0',
      description: 'Operator API of a bank’s gateway. Every call needs TLS; all but public ones a client certificate.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        clientCertificate: { type: 'mutualTLS', description: 'X.509 client certificate from a trusted CA' },
      },
    },
  };
}
