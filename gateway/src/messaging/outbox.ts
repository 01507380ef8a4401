/**
 * The sending side of gateway messaging. A message is signed and written to the outbox (one
 * transaction) before any attempt to send it, then delivered in chain order; an undelivered
 * message is resent byte for byte (same hash) until the receiver accepts it, by the next send on
 * its chain or by the retry timer, also after a restart. Queuing the same content twice for a
 * chain returns the first message, so a caller may simply repeat itself.
 */
import { randomUUID } from 'node:crypto';
import { DvpError } from '../core/errors';
import { canonicalHash } from '../core/canonical';
import type { SettlementMessenger, OutgoingMessage } from '../settlement/messenger';
import { envelopeHash, signEnvelope, type PeerEnvelope, type PeerMessageType, type PeerSigner } from './envelope';
import type { OutboxEntry, PeerStore } from './store';
import { noCrashPoint, sendPoint, type CrashPoint } from '../core/crash-points';

/** What the receiver answered. `replayed`: it had accepted this exact message before. */
export type DeliveryResult =
  | { readonly ok: true; readonly replayed: boolean }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

/** Carries an envelope to another gateway (HTTPS with mutual TLS in production). */
export interface PeerTransport {
  deliver(toParty: string, envelope: PeerEnvelope): Promise<DeliveryResult>;
}

/** Options of {@link createPeerOutbox}. */
export interface PeerOutboxOptions {
  /** The messaging records of the party this gateway acts for (the `from` of every message). */
  readonly store: PeerStore;
  /** Runs `fn` in one database transaction. */
  readonly transaction: <T>(fn: () => T) => T;
  readonly signer: PeerSigner;
  readonly transport: PeerTransport;
  /** How often the timer looks for messages due again; default 2000 ms. */
  readonly retryIntervalMs?: number;
  /**
   * Backoff after a failed attempt on a chain: 1 s, doubling per attempt, at most this; default
   * 30 000 ms. A send or flush within the backoff fails at once without touching the network.
   */
  readonly maxBackoffMs?: number;
  /** Chains the timer delivers at the same time; default 4. */
  readonly concurrency?: number;
  readonly onError?: (err: unknown, context: Readonly<Record<string, string>>) => void;
  readonly now?: () => Date;
  /** Tests only: `send.<type>:queued` and `:delivered` (core/crash-points.ts); default none. */
  readonly crashPoint?: CrashPoint;
}

/** The outbox, usable as the settlement modes' messenger. */
export interface PeerOutbox extends SettlementMessenger {
  /** Signs and stores a message (or returns the one already queued with the same content). */
  queue(to: string, tradeId: string, type: PeerMessageType, body: Readonly<Record<string, string>>): OutboxEntry;
  /**
   * Delivers what is pending on one chain, in order; true when nothing is left pending. Within the
   * chain's backoff it returns false at once unless `force` (tests, operators).
   */
  flush(to: string, tradeId: string, force?: boolean): Promise<boolean>;
  /** Flushes every chain whose messages are due (a few chains at a time). */
  flushAll(): Promise<void>;
  /**
   * `party`'s gateway was just heard from (a verified message): every chain to it backed off after
   * failed attempts is tried now rather than when its backoff ends (in the background).
   */
  peerReachable(party: string): void;
  /** Starts the retry timer. */
  start(): void;
  /** Stops the timer and waits for running deliveries. */
  close(): Promise<void>;
}

/** Thrown by `send` when a message is queued but not delivered yet (it will be retried). */
export class NotDeliveredError extends DvpError<'MESSAGE_NOT_DELIVERED'> {
  constructor(
    message: string,
    override readonly context: Readonly<Record<string, string>>,
  ) {
    super('MESSAGE_NOT_DELIVERED', message, context);
  }
}

/** Creates the outbox over `options.store`. */
export function createPeerOutbox(options: Readonly<PeerOutboxOptions>): PeerOutbox {
  return new Outbox(options);
}

class Outbox implements PeerOutbox {
  readonly #o: Readonly<PeerOutboxOptions>;
  readonly #now: () => Date;
  readonly #crash: CrashPoint;
  /** The delivery run of each chain, by `to` and trade. */
  readonly #chains = new Map<string, Promise<boolean>>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(options: Readonly<PeerOutboxOptions>) {
    this.#o = options;
    this.#now = options.now ?? ((): Date => new Date());
    this.#crash = options.crashPoint ?? noCrashPoint;
  }

  queue(to: string, tradeId: string, type: PeerMessageType, body: Readonly<Record<string, string>>): OutboxEntry {
    const { store } = this.#o;
    let queued = false;
    const entry = this.#o.transaction((): OutboxEntry => {
      const contentKey = canonicalHash({ type, body });
      const existing = store.findByContent(to, tradeId, contentKey);
      if (existing) return existing;
      queued = true;
      // Something new to say is a reason to try the chain now, not when an earlier backoff ends.
      store.clearBackoff(to, tradeId);
      const { seq, prev } = store.nextLink(to, tradeId);
      const at = this.#now();
      const fields = { v: 1 as const, id: randomUUID(), from: store.party, to, tradeId, type, seq, prev, body };
      const envelope = signEnvelope({ ...fields, sentAt: at.toISOString() }, this.#o.signer);
      const hash = envelopeHash(envelope);
      store.enqueue(envelope, hash, contentKey, at.toISOString());
      return { to, tradeId, seq, envelope, hash, state: 'pending', attempts: 0 };
    });
    if (queued) this.#crash(sendPoint(type, 'queued'), tradeId);
    return entry;
  }

  /** One delivery run per chain at a time; a caller arriving during a run waits, then runs again. */
  flush(to: string, tradeId: string, force = false): Promise<boolean> {
    const key = `${to}\u0000${tradeId}`;
    const before = this.#chains.get(key) ?? Promise.resolve(true);
    const deliver = (): Promise<boolean> => this.#deliverChain(to, tradeId, force);
    const run = before.then(deliver, deliver);
    this.#chains.set(key, run);
    void run
      .finally(() => {
        if (this.#chains.get(key) === run) this.#chains.delete(key);
      })
      .catch(() => undefined); // the caller gets the rejection; this branch must not be unhandled
    return run;
  }

  async flushAll(): Promise<void> {
    const due = [...this.#o.store.dueChains(this.#now().toISOString())];
    const worker = async (): Promise<void> => {
      for (let c = due.shift(); c !== undefined; c = due.shift()) await this.flush(c.to, c.tradeId);
    };
    await Promise.all(Array.from({ length: this.#o.concurrency ?? 4 }, worker));
  }

  async send(toParty: string, message: OutgoingMessage): Promise<void> {
    const entry = this.queue(toParty, message.tradeId, message.type, message.body);
    if (entry.state === 'delivered') return;
    if (!(await this.flush(toParty, message.tradeId))) {
      throw new NotDeliveredError(`message ${message.type} of ${message.tradeId} to ${toParty} not delivered yet`, {
        to: toParty,
        tradeId: message.tradeId,
      });
    }
  }

  peerReachable(party: string): void {
    if (this.#o.store.clearBackoffTo(party) === 0) return;
    this.#sweep();
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#sweep(), this.#o.retryIntervalMs ?? 2000);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
    await Promise.allSettled([...this.#chains.values()]);
  }

  /** Flushes every due chain in the background, unless a sweep is under way. */
  #sweep(): void {
    if (this.#sweeping) return;
    this.#sweeping = this.flushAll()
      .catch((err: unknown) => this.#o.onError?.(err, { task: 'outbox retry' }))
      .finally(() => (this.#sweeping = undefined));
  }

  #backoffMs(attempts: number): number {
    return Math.min(1000 * 2 ** Math.min(attempts, 20), this.#o.maxBackoffMs ?? 30_000);
  }

  /** Sends pending messages of one chain in order; stops at the first one not accepted. */
  async #deliverChain(to: string, tradeId: string, force: boolean): Promise<boolean> {
    const { store } = this.#o;
    const due = store.nextAttempt(to, tradeId);
    if (!force && due !== undefined && due > this.#now().toISOString()) return false;
    for (const entry of store.pending(to, tradeId)) {
      if (!(await this.#attempt(to, tradeId, entry))) return false;
    }
    return true;
  }

  /** One delivery attempt of `entry`; a refusal or a network failure backs the chain off. */
  async #attempt(to: string, tradeId: string, entry: OutboxEntry): Promise<boolean> {
    let result: DeliveryResult;
    try {
      result = await this.#o.transport.deliver(to, entry.envelope);
    } catch (err) {
      result = { ok: false, status: 0, code: 'UNREACHABLE', message: (err as Error).message };
    }
    if (result.ok) {
      this.#crash(sendPoint(entry.envelope.type, 'delivered'), tradeId);
      this.#o.store.markDelivered(entry, this.#now().toISOString());
      return true;
    }
    const error = `${result.status} ${result.code}: ${result.message}`;
    const retryAt = new Date(this.#now().getTime() + this.#backoffMs(entry.attempts)).toISOString();
    this.#o.store.markFailed(entry, error, retryAt);
    const seq = String(entry.seq);
    this.#o.onError?.(new NotDeliveredError(error, { to, tradeId, seq }), {
      to,
      tradeId,
      type: entry.envelope.type,
      seq,
    });
    return false;
  }
}
