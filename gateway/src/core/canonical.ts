/**
 * The gateway's canonical JSON for hashing (idempotency bodies, audit entries, message content):
 * `@dvp/certs`'s one implementation, with bigints (amounts) written as decimal strings, so a hash
 * never depends on property order.
 */
import { canonicalHash as hash, canonicalJson as json } from '@dvp/certs';

const GATEWAY = { bigint: 'decimal' } as const;

/** Serializes `value` with sorted keys; bigints become decimal strings. */
export const canonicalJson = (value: unknown): string => json(value, GATEWAY);

/** SHA-256 of the UTF-8 canonical JSON of `value`, lower-case hex. */
export const canonicalHash = (value: unknown): string => hash(value, GATEWAY);
