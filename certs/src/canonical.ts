/**
 * Deterministic JSON, the one implementation of the project (the securities chaincode keeps its
 * own copy: it deploys alone): object keys sorted by code unit at every depth, no whitespace,
 * arrays in order, `undefined` properties dropped. What JSON cannot represent faithfully is
 * refused (undefined in an array, functions, symbols, non-finite numbers); a bigint is refused
 * too unless `bigint: 'decimal'` asks for it as a decimal string (the gateway's amounts).
 */
import { createHash } from 'node:crypto';
import { CertsError } from './errors';

/** How {@link canonicalJson} treats a bigint. */
export interface CanonicalOptions {
  /** `refuse` (default): throw; `decimal`: write it as a decimal string. */
  readonly bigint?: 'refuse' | 'decimal';
}

function scalar(value: unknown, options: CanonicalOptions): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CertsError('invalid_input', 'canonical JSON: non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value === 'bigint' && options.bigint === 'decimal') return JSON.stringify(value.toString());
  throw new CertsError('invalid_input', `canonical JSON: unsupported ${typeof value}`);
}

/** Serializes `value` canonically; throws `CertsError('invalid_input')` on what JSON cannot hold. */
export function canonicalJson(value: unknown, options: CanonicalOptions = {}): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, options)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, options)}`).join(',')}}`;
  }
  return scalar(value, options);
}

/** SHA-256 of the UTF-8 canonical JSON of `value`, lower-case hex. */
export function canonicalHash(value: unknown, options: CanonicalOptions = {}): string {
  return createHash('sha256').update(canonicalJson(value, options), 'utf8').digest('hex');
}
