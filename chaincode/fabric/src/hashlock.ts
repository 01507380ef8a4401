/**
 * Hashlocks: SHA-256 over exactly 32 preimage bytes, as on the cash ledger, so one preimage
 * unlocks both sides. Both are accepted as hex with or without `0x` and stored lower-case
 * without the prefix.
 */
import { createHash } from 'node:crypto';

import { fail } from './errors';

const HEX32 = /^(0x)?[0-9a-fA-F]{64}$/;

const ZERO32 = '0'.repeat(64);

/**
 * Normalizes a hashlock (64 hex chars, optional 0x) or throws INVALID_ARGUMENT. All zeros is
 * rejected too, as on the cash ledger (where zero means "no hashlock"): nobody knows a preimage
 * for it, so it could only ever be refunded.
 */
export function normalizeHashlock(raw: string, field = 'hashlock'): string {
  if (!HEX32.test(raw)) fail('INVALID_ARGUMENT', `${field} must be 32 bytes of hex`, { field });
  const hex = raw.replace(/^0x/, '').toLowerCase();
  if (hex === ZERO32) fail('INVALID_ARGUMENT', `${field} must not be zero`, { field });
  return hex;
}

/**
 * Checks `preimage` against `hashlock`: INVALID_ARGUMENT unless it is exactly 32 bytes of hex,
 * BAD_PREIMAGE when SHA-256 of those bytes is not the hashlock. Returns the normalized preimage.
 */
export function verifyPreimage(preimage: string, hashlock: string, id: string): string {
  const hex = requirePreimageFormat(preimage, id);
  const digest = createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
  if (digest !== hashlock) fail('BAD_PREIMAGE', 'SHA-256 of the preimage does not match the hashlock', { id });
  return hex.toLowerCase();
}

/** Returns the preimage as hex without prefix, or INVALID_ARGUMENT unless exactly 32 bytes of hex. */
export function requirePreimageFormat(preimage: string, id: string): string {
  const hex = preimage.replace(/^0x/, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) fail('INVALID_ARGUMENT', 'preimage must be hex', { id });
  if (hex.length !== 64) {
    fail('INVALID_ARGUMENT', 'preimage must be exactly 32 bytes', { id, bytes: hex.length / 2 });
  }
  return hex;
}
