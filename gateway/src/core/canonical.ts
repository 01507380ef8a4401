/**
 * Deterministic JSON for hashing (idempotency bodies, audit entries): object keys sorted at every
 * depth, no whitespace, `undefined` properties dropped, bigints as decimal strings. The same rule
 * as the securities chaincode's `canonical.ts`, so a hash never depends on property order.
 */
import { createHash } from 'node:crypto';

function normalize(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalize(v);
    }
    return out;
  }
  return value;
}

/** Serializes `value` with sorted keys; bigints become decimal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value));
}

/** SHA-256 of the UTF-8 canonical JSON of `value`, lower-case hex. */
export function canonicalHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}
