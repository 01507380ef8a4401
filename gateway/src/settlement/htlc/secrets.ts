/**
 * The leader's HTLC secrets, durable before any lock is journaled: a restart must find the same
 * preimage, or the leader could never claim. {@link SecretStore} is the port; the gateway's store
 * keeps them in a table of their own (store/secrets.ts), never on the trade timeline (which
 * operators and auditors read).
 */
import { createHash, randomBytes } from 'node:crypto';

/** A preimage (32 random bytes) and its SHA-256 hashlock, both 0x-hex. */
export interface HtlcSecret {
  readonly preimage: string;
  readonly hashlock: string;
}

/** Durable secrets by trade. */
export interface SecretStore {
  /** The trade's secret; created (crypto.randomBytes) and stored on first use. */
  secretFor(tradeId: string): HtlcSecret;
}

/** True for exactly 32 bytes of hex, with or without `0x` (a preimage, a hashlock, an EVM lock id). */
export function isHex32(value: string): boolean {
  return /^(0x)?[0-9a-fA-F]{64}$/.test(value);
}

/**
 * SHA-256 of a 32-byte hex preimage, as 0x-hex. Throws `TypeError` on anything else: Node's hex
 * decoding stops at the first non-hex character, so a lenient hash would match `preimage + 'zz'`,
 * which no ledger accepts as a preimage.
 */
export function hashlockOf(preimage: string): string {
  if (!isHex32(preimage)) throw new TypeError('an HTLC preimage must be exactly 32 bytes of hex');
  return `0x${createHash('sha256')
    .update(Buffer.from(preimage.replace(/^0x/, ''), 'hex'))
    .digest('hex')}`;
}

/** True when `preimage` is 32 bytes of hex whose SHA-256 is `hashlock` (hex, any case, optional `0x`). */
export function isPreimageOf(preimage: string, hashlock: string): boolean {
  return isHex32(preimage) && hashlockOf(preimage) === `0x${hashlock.toLowerCase().replace(/^0x/, '')}`;
}

/** A fresh secret. */
export function newSecret(): HtlcSecret {
  const preimage = `0x${randomBytes(32).toString('hex')}`;
  return { preimage, hashlock: hashlockOf(preimage) };
}
