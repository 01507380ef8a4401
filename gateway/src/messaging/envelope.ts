/**
 * Gateway-to-gateway messages (trade proposal and affirmation, cancel, HTLC lock notices and
 * preimage relay, the orchestrated escrow's messages between banks, manager, notary and
 * observer) travel as signed envelopes. The sender's gateway signs the canonical JSON of
 * everything but the signature with its gateway key (ECDSA P-256, SHA-256) and includes its
 * certificate, so the receiver can check who signed independently of the TLS connection.
 *
 * Messages of one trade from one sender form a chain: `seq` counts from 1 and `prev` is the hash
 * of the sender's previous message of that trade (64 zeros for the first). The receiver accepts
 * exactly the next link, so a replayed, reordered or forged-into-the-middle message is refused.
 */
import { createHash, createPrivateKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../core/canonical';

/** Message types between gateways. */
export const PEER_MESSAGE_TYPES = [
  'proposal',
  'affirmation',
  'cancel',
  'lock_notice',
  'preimage',
  'register',
  'instructions',
  'deposited',
  'approval_request',
  'approval',
  'decision',
  'record',
] as const;
export type PeerMessageType = (typeof PEER_MESSAGE_TYPES)[number];

/** `prev` of the first message of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The signed part of a message. */
export interface UnsignedEnvelope {
  readonly v: 1;
  /** Random id (UUID), for logs. */
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly tradeId: string;
  readonly type: PeerMessageType;
  /** Position in the (from, to, tradeId) chain, from 1. */
  readonly seq: number;
  /** Hash of the previous message of the chain, or {@link GENESIS_HASH}. */
  readonly prev: string;
  /** ISO 8601, when the sender created the message. */
  readonly sentAt: string;
  readonly body: Readonly<Record<string, string>>;
  /** PEM certificate of the signing key (the sender gateway's identity). */
  readonly signer: string;
}

/** A message as sent: the unsigned part plus a base64 DER ECDSA signature over its canonical JSON. */
export interface PeerEnvelope extends UnsignedEnvelope {
  readonly signature: string;
}

/** The fields covered by the signature, in canonical form. */
function signedBytes(e: UnsignedEnvelope): Buffer {
  const { v, id, from, to, tradeId, type, seq, prev, sentAt, body, signer } = e;
  return Buffer.from(canonicalJson({ v, id, from, to, tradeId, type, seq, prev, sentAt, body, signer }), 'utf8');
}

/** SHA-256 (hex) of the signed part: the message's identity and the next message's `prev`. */
export function envelopeHash(e: UnsignedEnvelope): string {
  return createHash('sha256').update(signedBytes(e)).digest('hex');
}

/** The gateway's signing key and certificate. */
export interface PeerSigner {
  readonly certificatePem: string;
  readonly key: KeyObject;
}

/** Loads a signer from PEM text (key: PKCS#8 or SEC1; never logged). */
export function peerSigner(certificatePem: string, keyPem: string): PeerSigner {
  return { certificatePem: certificatePem.trim(), key: createPrivateKey(keyPem) };
}

/** Signs `e` (whose `signer` must be `s.certificatePem`). */
export function signEnvelope(e: Omit<UnsignedEnvelope, 'signer'>, s: PeerSigner): PeerEnvelope {
  const unsigned: UnsignedEnvelope = { ...e, signer: s.certificatePem };
  const signature = sign('sha256', signedBytes(unsigned), s.key).toString('base64');
  return { ...unsigned, signature };
}

/**
 * The signing certificate: `signer` must be exactly one PEM certificate and nothing else, so the
 * key that verifies the signature is the key of the certificate the identity checks see.
 */
export function signerCertificate(e: Pick<UnsignedEnvelope, 'signer'>): X509Certificate | undefined {
  const text = e.signer.trim();
  const blocks = text.match(/-----BEGIN [A-Z0-9 ]+-----/g) ?? [];
  if (blocks.length !== 1 || !text.startsWith('-----BEGIN CERTIFICATE-----')) return undefined;
  if (!text.endsWith('-----END CERTIFICATE-----')) return undefined;
  try {
    return new X509Certificate(text);
  } catch {
    return undefined;
  }
}

/** True when the signature verifies with the public key of the signing certificate. */
export function signatureValid(e: PeerEnvelope, certificate = signerCertificate(e)): boolean {
  if (!certificate) return false;
  try {
    return verify('sha256', signedBytes(e), certificate.publicKey, Buffer.from(e.signature, 'base64'));
  } catch {
    return false;
  }
}
