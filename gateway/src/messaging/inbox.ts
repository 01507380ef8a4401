/**
 * The receiving side of gateway messaging. Before anything acts on a message it checks, in
 * order: it is addressed to this gateway's party and comes from the party of the TLS client
 * certificate; the signing certificate passes every identity check (trust anchor, dates, CRL,
 * key usage, directory) and belongs to that same party with the `gateway` role; the signature
 * verifies; and it is exactly the next link of its chain (a message accepted before answers
 * `MESSAGE_REPLAYED`, anything else out of place `MESSAGE_OUT_OF_ORDER`). Then the handler acts,
 * and only then is the message recorded: a crash in between makes the sender resend it, and
 * handlers are idempotent. Messages of one chain are handled one at a time.
 */
import { MessagingError } from './errors';
import type { VerifiedIdentity } from '../trust/identity';
import type { Actor } from '../core/trade';
import { envelopeHash, signatureValid, signerCertificate, type PeerEnvelope } from './envelope';
import type { PeerStore } from './store';
import { noCrashPoint, receivePoint, type CrashPoint } from '../core/crash-points';

/** A message that passed every check, with its verified signer. */
export interface ReceivedMessage {
  readonly envelope: PeerEnvelope;
  readonly signer: Actor;
  readonly hash: string;
}

/** Options of {@link createPeerInbox}. */
export interface PeerInboxOptions {
  /** The messaging records of the party this gateway acts for (the addressee of every message). */
  readonly store: PeerStore;
  /** Identity checks of another party's gateway certificate (identity.ts `verifyPeer`). */
  readonly verifyPeer: (der: Uint8Array) => Promise<VerifiedIdentity>;
  /** Acts on a verified message; throwing leaves it unrecorded (the sender retries). */
  readonly handle: (message: ReceivedMessage) => Promise<void>;
  readonly now?: () => Date;
  /** Tests only: `receive.<type>:received`, `:handled`, `:recorded` (core/crash-points.ts). */
  readonly crashPoint?: CrashPoint;
}

/** Accepts messages from other gateways. */
export interface PeerInbox {
  /** `caller`: the verified TLS client of the request. */
  receive(caller: Actor, envelope: PeerEnvelope): Promise<{ readonly seq: number; readonly hash: string }>;
}

/** Addressed to this gateway's party, from the party of the TLS client. */
function checkAddress(self: string, caller: Actor, e: PeerEnvelope): void {
  if (e.to !== self) {
    throw new MessagingError('MESSAGE_MISADDRESSED', `the message is for '${e.to}', this gateway acts for '${self}'`);
  }
  if (e.from !== caller.party) {
    throw new MessagingError(
      'MESSAGE_SENDER_MISMATCH',
      `the message claims '${e.from}' but the TLS client is '${caller.party}'`,
    );
  }
}

/** The signing certificate passes every identity check and is the sending party's gateway; the signature verifies. */
async function verifiedSigner(options: Readonly<PeerInboxOptions>, e: PeerEnvelope): Promise<Actor> {
  const certificate = signerCertificate(e);
  if (!certificate) {
    throw new MessagingError('MESSAGE_SIGNATURE_INVALID', 'signer must be exactly one PEM certificate', {
      field: 'body.signer',
    });
  }
  const signer = (await options.verifyPeer(certificate.raw)).actor;
  if (signer.party !== e.from || signer.role !== 'gateway') {
    const who = `'${signer.party}' with role '${signer.role || 'none'}'`;
    throw new MessagingError(
      'MESSAGE_SENDER_MISMATCH',
      `the message must be signed by ${e.from}'s gateway, not ${who}`,
    );
  }
  if (!signatureValid(e))
    throw new MessagingError('MESSAGE_SIGNATURE_INVALID', 'the message signature does not verify');
  return signer;
}

/** Not accepted before, and exactly the next link of its chain; returns its hash. */
function checkChain(store: PeerStore, e: PeerEnvelope): string {
  const hash = envelopeHash(e);
  if (store.received(hash)) {
    throw new MessagingError(
      'MESSAGE_REPLAYED',
      `message ${e.seq} of ${e.tradeId} from ${e.from} was accepted before`,
      {
        seq: e.seq,
        hash,
      },
    );
  }
  const last = store.lastReceived(e.from, e.tradeId);
  if (e.seq !== last.seq + 1 || e.prev !== last.hash) {
    throw new MessagingError(
      'MESSAGE_OUT_OF_ORDER',
      `expected message ${last.seq + 1} of ${e.tradeId} from ${e.from}`,
      {
        expectedSeq: last.seq + 1,
        expectedPrev: last.hash,
        seq: e.seq,
      },
    );
  }
  return hash;
}

/** Creates the inbox. */
export function createPeerInbox(options: Readonly<PeerInboxOptions>): PeerInbox {
  const now = options.now ?? ((): Date => new Date());
  const crash = options.crashPoint ?? noCrashPoint;
  const chains = new Map<string, Promise<unknown>>();
  const { store } = options;

  async function accept(caller: Actor, e: PeerEnvelope): Promise<{ seq: number; hash: string }> {
    checkAddress(store.party, caller, e);
    const signer = await verifiedSigner(options, e);
    const hash = checkChain(store, e);
    crash(receivePoint(e.type, 'received'), e.tradeId);
    await options.handle({ envelope: e, signer, hash });
    crash(receivePoint(e.type, 'handled'), e.tradeId);
    store.recordReceived(e, hash, signer.fingerprint, now().toISOString());
    crash(receivePoint(e.type, 'recorded'), e.tradeId);
    return { seq: e.seq, hash };
  }

  return {
    receive(caller, envelope) {
      const key = `${envelope.to}\u0000${envelope.from}\u0000${envelope.tradeId}`;
      const before = chains.get(key) ?? Promise.resolve();
      const run = before.catch(() => undefined).then(() => accept(caller, envelope));
      chains.set(key, run);
      void run
        .finally(() => {
          if (chains.get(key) === run) chains.delete(key);
        })
        .catch(() => undefined);
      return run;
    },
  };
}
