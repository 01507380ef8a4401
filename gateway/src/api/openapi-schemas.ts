/**
 * The reusable schemas of the API (`components.schemas` of the OpenAPI document), referenced by
 * the operations in openapi.ts and openapi-escrow.ts and compiled into the request validators;
 * and the shape of one operation ({@link OperationSpec}), which both of those files declare.
 */
import { ERROR_HTTP, type ApiErrorCode } from './errors';
import { PEER_MESSAGE_TYPES } from '../messaging/envelope';
import type { Role } from '@dvp/certs';
import type { SettlementModeName, TradeStatus } from '../core/trade';

/** A JSON Schema (2020-12) object, as used inside OpenAPI 3.1. */
export type JsonSchema = Readonly<Record<string, unknown>>;

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

/** Settlement modes accepted on `POST /v1/trades` today (the choreographed escrow is added here when ready). */
export const ACCEPTED_MODES: readonly SettlementModeName[] = ['htlc', 'escrow_orchestrated'];

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

/** The error answers every protected operation documents. */
export const ERROR_RESPONSES = {
  '400': { description: 'Invalid request', schema: 'Error' },
  '401': { description: 'No valid client certificate', schema: 'Error' },
  '403': { description: 'Role or party not allowed', schema: 'Error' },
} as const;

/** A reference to a schema of `components.schemas`. */
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const DECIMAL = (description: string, positive: boolean): JsonSchema => ({
  type: 'string',
  pattern: positive ? '^[1-9][0-9]{0,77}$' : '^(0|[1-9][0-9]{0,77})$',
  format: 'uint256',
  description: `${description} Decimal string of an integer, at most 2^256 − 1.`,
});
/** An object schema that refuses unknown fields. */
export const obj = (required: readonly string[], properties: Record<string, JsonSchema>): JsonSchema => ({
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
      escrow: ref('EscrowParties'),
    },
  ),
  EscrowParties: {
    ...obj(['manager'], { manager: ref('PartyId'), notary: ref('PartyId'), observer: ref('PartyId') }),
    description:
      'Mode escrow_orchestrated only, and required there: the escrow manager, and the notary who must approve ' +
      'and the observer who records, when the trade names them. Parties of the directory, other than the two ' +
      'banks and each other; both banks must name the same ones (matching terms).',
  },
  TimelineStep: {
    type: 'object',
    required: ['at', 'actor', 'event', 'status'],
    properties: {
      at: ref('Timestamp'),
      actor: { type: 'string' },
      event: { type: 'string' },
      status: ref('TradeStatus'),
      leg: { enum: ['securities', 'cash'], description: 'The leg of the trade the step concerns.' },
      ledger: {
        enum: ['fabric', 'evm'],
        description: 'The ledger the step ran on (securities may be on the EVM stand-in).',
      },
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
      items: obj(['isin', 'ledger', 'free', 'locked'], {
        isin: ref('Isin'),
        ledger: { enum: ['fabric', 'evm'], description: 'The ledger that holds these securities.' },
        free: ref('Amount'),
        locked: ref('Amount'),
      }),
    },
    cash: {
      type: 'array',
      items: obj(['currency', 'ledger', 'free', 'locked'], {
        currency: { type: 'string', description: 'The cash token’s symbol (e.g. `CASH`).' },
        ledger: { enum: ['fabric', 'evm'], description: 'The ledger that holds this cash.' },
        free: ref('Amount'),
        locked: ref('Amount'),
      }),
    },
    unavailable: {
      type: 'array',
      description:
        'Legs whose balances could not be read (left out above), the ledger that should hold them (absent when none is configured), and the reason.',
      items: obj(['leg', 'reason'], {
        leg: { enum: ['securities', 'cash'] },
        ledger: { enum: ['fabric', 'evm'] },
        reason: { type: 'string' },
      }),
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
    description: 'A message from another bank’s gateway, signed by it (see gateway/src/messaging/envelope.ts).',
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
        code: { enum: Object.keys(ERROR_HTTP) as ApiErrorCode[] },
        message: { type: 'string' },
        details: {},
      },
    },
  }),
};
