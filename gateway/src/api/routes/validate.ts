/**
 * Request validation against the OpenAPI document (ajv, JSON Schema 2020-12): path parameters,
 * query (unknown parameters refused), required headers and the JSON body (unknown fields refused).
 * Two formats are ours: `uint256` (decimal integer at most 2^256 − 1) and `isin` (ISO 6166 with
 * its check digit). Failures become `VALIDATION_FAILED` (400) naming the field and the reason.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { RequestError } from '../errors';
import { OPERATIONS, openApiDocument, type OperationId, type OperationSpec } from '../openapi';

const UINT256_MAX = (1n << 256n) - 1n;

/** True for a decimal integer string without leading zeros that fits in uint256. */
export function isUint256(value: string): boolean {
  return /^(0|[1-9][0-9]{0,77})$/.test(value) && BigInt(value) <= UINT256_MAX;
}

/** True for a well-formed ISIN whose check digit (Luhn over the letters-as-numbers) is right. */
export function isIsin(value: string): boolean {
  if (!/^[A-Z]{2}[A-Z0-9]{9}[0-9]$/.test(value)) return false;
  const digits = [...value].map((c) => (c >= 'A' ? String(c.charCodeAt(0) - 55) : c)).join('');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The validated parts of a request. */
export interface ValidatedRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** Raw request parts as express hands them over. */
export interface RawRequest {
  readonly params: unknown;
  readonly query: unknown;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
  readonly hasJsonBody: boolean;
}

export type RequestValidator = (raw: RawRequest) => ValidatedRequest;

const DOC_KEYWORDS = ['openapi', 'jsonSchemaDialect', 'info', 'servers', 'paths', 'components'];

function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: false, strict: true, coerceTypes: false });
  addFormats(ajv as unknown as Parameters<typeof addFormats>[0], ['date-time']);
  ajv.addFormat('uint256', { type: 'string', validate: isUint256 });
  ajv.addFormat('isin', { type: 'string', validate: isIsin });
  // The whole document is registered so that `#/components/schemas/...` references resolve.
  for (const keyword of DOC_KEYWORDS) ajv.addKeyword({ keyword });
  ajv.addSchema({ $id: 'openapi.json', ...openApiDocument('validation') });
  return ajv;
}

/** Rewrites local refs so a fragment compiles against the registered document. */
function rooted(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rooted);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `openapi.json${v}` : rooted(v),
    ]),
  );
}

/** Reasons that read better than ajv's, by keyword (and format). */
const REASONS: Readonly<Record<string, string>> = {
  required: 'is required',
  additionalProperties: 'is not a known field',
  'format:uint256': 'must be an integer no larger than 2^256 − 1',
  'format:isin': 'is not a valid ISIN (check digit)',
};

const AMOUNT_PATTERN = 'must be a positive integer as a decimal string (no sign, fraction, exponent or leading zeros)';

function describe(where: string, e: ErrorObject): { field: string; reason: string } {
  const params = e.params as { missingProperty?: string; additionalProperty?: string; format?: string };
  const path = e.instancePath.slice(1).replace(/\//g, '.');
  const field = [where, path, params.missingProperty ?? params.additionalProperty].filter(Boolean).join('.');
  const known = REASONS[e.keyword === 'format' ? `format:${params.format}` : e.keyword];
  if (known !== undefined) return { field, reason: known };
  if (e.keyword === 'pattern' && /quantity|price/.test(path)) return { field, reason: AMOUNT_PATTERN };
  return { field, reason: e.message ?? 'is invalid' };
}

function check(validate: ValidateFunction, where: string, value: unknown): void {
  if (validate(value)) return;
  const first = validate.errors?.[0];
  const { field, reason } = first ? describe(where, first) : { field: where, reason: 'is invalid' };
  throw new RequestError('VALIDATION_FAILED', `${field} ${reason}`, { in: where, field, reason });
}

const objectOf = (properties: Readonly<Record<string, unknown>> | undefined, required: readonly string[] = []) =>
  rooted({ type: 'object', additionalProperties: false, required, properties: properties ?? {} });

function headerValues(op: OperationSpec, raw: RawRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, h] of Object.entries(op.headers ?? {})) {
    const value = raw[name];
    if (Array.isArray(value)) throw new RequestError('VALIDATION_FAILED', `header ${name} is given more than once`);
    if (value === undefined && h.required && name === 'idempotency-key') {
      throw new RequestError('IDEMPOTENCY_KEY_REQUIRED', 'the Idempotency-Key header is required on this route');
    }
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** No body, or an empty JSON object (some clients send `{}` on bodiless POSTs). */
const isEmptyBody = (body: unknown): boolean =>
  body === undefined ||
  (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);

function operationValidator(ajv: Ajv2020, op: OperationSpec): RequestValidator {
  const params = ajv.compile(objectOf(op.pathParams, Object.keys(op.pathParams ?? {})) as object);
  const query = ajv.compile(objectOf(op.query) as object);
  const headerSchemas = Object.fromEntries(Object.entries(op.headers ?? {}).map(([n, h]) => [n, h.schema]));
  const headerRequired = Object.entries(op.headers ?? {})
    .filter(([, h]) => h.required)
    .map(([n]) => n);
  const headers = ajv.compile({ ...(objectOf(headerSchemas, headerRequired) as object), additionalProperties: true });
  const body = op.body ? ajv.compile({ $ref: `openapi.json#/components/schemas/${op.body}` }) : undefined;
  return (raw) => {
    check(params, 'path', raw.params ?? {});
    check(query, 'query', raw.query ?? {});
    const headerValuesFound = headerValues(op, raw.headers);
    check(headers, 'header', headerValuesFound);
    if (body) {
      if (!raw.hasJsonBody) throw new RequestError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
      check(body, 'body', raw.body);
    } else if (!isEmptyBody(raw.body)) {
      throw new RequestError('VALIDATION_FAILED', 'body is not accepted on this route', { in: 'body', field: 'body' });
    }
    return {
      params: raw.params as Record<string, string>,
      query: (raw.query ?? {}) as Record<string, string>,
      headers: headerValuesFound,
      body: raw.body,
    };
  };
}

/** One validator per operation, compiled once. */
export function createValidators(): Readonly<Record<OperationId, RequestValidator>> {
  const ajv = createAjv();
  const entries = (Object.entries(OPERATIONS) as [OperationId, OperationSpec][]).map(([id, op]) => [
    id,
    operationValidator(ajv, op),
  ]);
  return Object.fromEntries(entries) as Record<OperationId, RequestValidator>;
}
