/**
 * The operator REST API as data: one {@link OperationSpec} per route (path, roles, parameters,
 * body, responses), from which both the OpenAPI 3.1 document (`GET /openapi.json`) and the
 * request validators are built. The app registers exactly these operations, so a route cannot
 * exist without being documented.
 */
import type { Role } from '@dvp/certs';
import { ERROR_RESPONSES, ref, SCHEMAS, type JsonSchema, type OperationSpec } from './openapi-schemas';
import { ESCROW_OPERATIONS, ESCROW_SCHEMAS, type EscrowOperationId } from './openapi-escrow';

export { ACCEPTED_MODES, SCHEMAS, TRADE_STATUSES, type JsonSchema, type OperationSpec } from './openapi-schemas';

/** Every operation of the API: a bank's, and those of the orchestrated escrow's roles. */
export type OperationId = BankOperationId | EscrowOperationId;

/** The operations of a bank's gateway (its trades), and every gateway's own routes. */
type BankOperationId =
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

const TRADER_OPERATOR: readonly Role[] = ['trader', 'operator'];
const READERS: readonly Role[] = ['trader', 'operator', 'auditor'];
const errors = ERROR_RESPONSES;
const tradeIdParam = { id: ref('TradeId') };

/** A bank's operations and every gateway's own, one entry each. */
const BANK_OPERATIONS: Readonly<Record<BankOperationId, OperationSpec>> = {
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
      '429': { description: 'Too many of the sender’s proposals wait for an instruction here', schema: 'Error' },
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

/**
 * The answers of the body parser, which every route runs: 413 for any body over the limit, and on a
 * route that takes a body, 415 for one that is not `application/json`.
 */
function withBodyAnswers<K extends string>(ops: Readonly<Record<K, OperationSpec>>): Record<K, OperationSpec> {
  const add = (op: OperationSpec): OperationSpec => ({
    ...op,
    responses: {
      ...op.responses,
      '413': {
        description: 'The request body is over the limit, 64 kB by default (PAYLOAD_TOO_LARGE)',
        schema: 'Error',
      },
      ...(op.body !== undefined && {
        '415': { description: 'The body is not application/json (UNSUPPORTED_MEDIA_TYPE)', schema: 'Error' },
      }),
    },
  });
  return Object.fromEntries(Object.entries<OperationSpec>(ops).map(([id, op]) => [id, add(op)])) as Record<
    K,
    OperationSpec
  >;
}

/** The API, one entry per operation. */
export const OPERATIONS: Readonly<Record<OperationId, OperationSpec>> = withBodyAnswers({
  ...BANK_OPERATIONS,
  ...ESCROW_OPERATIONS,
});

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
      description:
        'Operator API of a gateway: a bank’s, an escrow manager’s, a notary’s or an observer’s (config `role`); the ' +
        'routes of a role the gateway does not run answer 404 ROLE_NOT_SERVED. Every call needs TLS; all but public ' +
        'ones a client certificate.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { ...SCHEMAS, ...ESCROW_SCHEMAS },
      securitySchemes: {
        clientCertificate: { type: 'mutualTLS', description: 'X.509 client certificate from a trusted CA' },
      },
    },
  };
}
