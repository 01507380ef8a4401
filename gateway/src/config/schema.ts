/**
 * The gateway config file's JSON Schema; `loadConfig` (config.ts) validates against it and turns
 * every error into a message naming the field. Types and defaults are in config.ts.
 */
import { LOG_LEVELS } from '../core/log';
import { LISTEN_SCHEMA } from './listen';

const str = { type: 'string', minLength: 1 } as const;
const seconds = { type: 'integer', minimum: 1, maximum: 3600 } as const;
const address = { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' } as const;

/** The JSON Schema (2020-12) of the config file, after environment overrides. */
export const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['partyId', 'listen', 'tls', 'trustAnchors', 'crl', 'directory', 'sqlitePath'],
  properties: {
    partyId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    listen: LISTEN_SCHEMA,
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['certFile', 'keyFile'],
      properties: { certFile: str, keyFile: str },
    },
    trustAnchors: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['mspId', 'certFile'],
        properties: { mspId: str, certFile: str },
      },
    },
    crl: {
      type: 'object',
      additionalProperties: false,
      required: ['files'],
      properties: {
        files: { type: 'array', items: str },
        reloadIntervalSeconds: seconds,
        requireForEveryAnchor: { type: 'boolean' },
      },
    },
    directory: {
      type: 'object',
      additionalProperties: false,
      required: ['file', 'authorityKeyFile'],
      properties: { file: str, authorityKeyFile: str, reloadIntervalSeconds: seconds },
    },
    sqlitePath: str,
    fabric: {
      type: 'object',
      additionalProperties: false,
      required: ['mspId', 'certFile', 'keyFile'],
      properties: {
        mspId: str,
        certFile: str,
        keyFile: str,
        unavailableReason: str,
        peer: {
          type: 'object',
          additionalProperties: false,
          required: ['endpoint', 'tlsCaCertFile'],
          properties: {
            endpoint: { type: 'string', pattern: '^[A-Za-z0-9.-]+:[0-9]{1,5}$' },
            tlsCaCertFile: str,
            hostOverride: { type: 'string', pattern: '^[A-Za-z0-9.-]{1,253}$' },
          },
        },
        channel: { type: 'string', pattern: '^[a-z][a-z0-9.-]{0,248}$' },
        chaincode: { type: 'string', pattern: '^[A-Za-z0-9_.+-]{1,128}$' },
      },
    },
    evm: {
      type: 'object',
      additionalProperties: false,
      required: ['rpcUrl', 'keyFile'],
      properties: {
        rpcUrl: { type: 'string', pattern: '^https?://' },
        keyFile: str,
        chainId: { type: 'integer', minimum: 1 },
        currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        contracts: {
          type: 'object',
          additionalProperties: false,
          required: ['token', 'htlc', 'escrow'],
          properties: { token: address, htlc: address, escrow: address },
        },
      },
    },
    peers: {
      type: 'object',
      additionalProperties: false,
      required: ['certFile', 'keyFile'],
      properties: {
        certFile: str,
        keyFile: str,
        urls: {
          type: 'object',
          propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
          additionalProperties: { type: 'string', pattern: '^https://' },
        },
        requestTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 120 },
        retryIntervalSeconds: { type: 'integer', minimum: 1, maximum: 300 },
      },
    },
    settlement: {
      type: 'object',
      additionalProperties: false,
      required: ['leader', 'leaderSeconds', 'followerSeconds', 'deltaSeconds'],
      properties: {
        leader: { enum: ['buyer', 'seller'] },
        leaderSeconds: { type: 'integer', minimum: 1, maximum: 31_536_000 },
        followerSeconds: { type: 'integer', minimum: 1, maximum: 31_536_000 },
        deltaSeconds: { type: 'integer', minimum: 0, maximum: 31_536_000 },
        pollIntervalMs: { type: 'integer', minimum: 10, maximum: 60_000 },
      },
    },
    role: { enum: ['bank', 'escrow-manager', 'notary', 'observer'] },
    escrow: {
      type: 'object',
      additionalProperties: false,
      properties: {
        deltaSeconds: { type: 'integer', minimum: 0, maximum: 31_536_000 },
        graceSeconds: { type: 'integer', minimum: 0, maximum: 86_400 },
        pollIntervalMs: { type: 'integer', minimum: 10, maximum: 60_000 },
      },
    },
    notary: {
      type: 'object',
      additionalProperties: false,
      properties: {
        decide: { enum: ['rule', 'operator'] },
        denyParties: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } },
        maxAmount: { type: 'string', pattern: '^(0|[1-9][0-9]{0,77})$' },
      },
    },
    securities: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['ledger'],
          properties: { ledger: { const: 'fabric' } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['ledger', 'instruments'],
          properties: {
            ledger: { const: 'evm' },
            instruments: {
              type: 'object',
              propertyNames: { pattern: '^[A-Z]{2}[A-Z0-9]{9}[0-9]$' },
              additionalProperties: address,
            },
          },
        },
      ],
    },
    log: { type: 'object', additionalProperties: false, properties: { level: { enum: LOG_LEVELS } } },
  },
} as const;
