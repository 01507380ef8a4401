/**
 * Deterministic JSON: object keys sorted at every depth, no whitespace. Every endorser must write
 * byte-identical state and events, so nothing reaches the ledger through plain JSON.stringify.
 */

/** JSON-compatible values accepted by {@link canonicalJson}; bigints become decimal strings. */
export type Canonicalizable =
  | string
  | number
  | boolean
  | null
  | bigint
  | undefined
  | readonly Canonicalizable[]
  | { readonly [key: string]: Canonicalizable };

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

/** Serializes with sorted keys (undefined properties dropped, bigints as decimal strings). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value));
}

/** UTF-8 bytes of {@link canonicalJson}, ready for putState/setEvent. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}
