/**
 * The sending side of gateway messaging. A message is signed and written to the outbox (one
 * transaction) before any attempt to send it, then delivered in chain order; an undelivered
 * message is resent byte for byte (same hash) until the receiver accepts it, by the next send on
 * its chain or by the retry timer, also after a restart. Queuing the same content twice for a
 * chain returns the first message, so a caller may simply repeat itself.
 */
import { randomUUID } from 'node:crypto';
import { canonicalHash } from '../core/canonical';
import type { SettlementMessenger, OutgoingMessage } from '../settlement/messenger';
import { envelopeHash, signEnvelope, type PeerEnvelope, type PeerMessageType, type PeerSigner } from './envelope';
import type { OutboxEntry, PeerStore } from './store';

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
  /** The party this gateway acts for (the `from` of every message). */
  readonly self: string;
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
  /** Starts the retry timer. */
  start(): void;
  /** Stops the timer and waits for running deliveries. */
  close(): Promise<void>;
}

/** Thrown by `send` when a message is queued but not delivered yet (it will be retried). */
export class NotDeliveredError extends Error {
  constructor(
    message: string,
    readonly context: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'NotDeliveredError';
  }
}

/** Creates the outbox over `options.store`. */
export function createPeerOutbox(options: Readonly<PeerOutboxOptions>): PeerOutbox {
  const now = options.now ?? ((): Date => new Date());
  const chains = new Map<string, Promise<boolean>>();
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;
  const { store, self } = options;

  const queue: PeerOutbox['queue'] = (to, tradeId, type, body) =>
    options.transaction(() => {
      const contentKey = canonicalHash({ type, body });
      const existing = store.findByContent(self, to, tradeId, contentKey);
      if (existing) return existing;
      // Something new to say is a reason to try the chain now, not when an earlier backoff ends.
      store.clearBackoff(self, to, tradeId);
      const { seq, prev } = store.nextLink(self, to, tradeId);
      const at = now();
      const fields = { v: 1 as const, id: randomUUID(), from: self, to, tradeId, type, seq, prev, body };
      const envelope = signEnvelope({ ...fields, sentAt: at.toISOString() }, options.signer);
      const hash = envelopeHash(envelope);
      store.enqueue(envelope, hash, contentKey, at.toISOString());
      return { owner: self, to, tradeId, seq, envelope, hash, state: 'pending', attempts: 0 };
    });

  const backoffMs = (attempts: number): number =>
    Math.min(1000 * 2 ** Math.min(attempts, 20), options.maxBackoffMs ?? 30_000);

  /** Sends pending messages of one chain in order; stops at the first one not accepted. */
  async function deliverChain(to: string, tradeId: string, force: boolean): Promise<boolean> {
    const due = store.nextAttempt(self, to, tradeId);
    if (!force && due !== undefined && due > now().toISOString()) return false;
    for (const entry of store.pending(self, to, tradeId)) {
      let result: DeliveryResult;
      try {
        result = await options.transport.deliver(to, entry.envelope);
      } catch (err) {
        result = { ok: false, status: 0, code: 'UNREACHABLE', message: (err as Error).message };
      }
      if (!result.ok) {
        const error = `${result.status} ${result.code}: ${result.message}`;
        store.markFailed(entry, error, new Date(now().getTime() + backoffMs(entry.attempts)).toISOString());
        options.onError?.(new NotDeliveredError(error, { to, tradeId, seq: String(entry.seq) }), {
          to,
          tradeId,
          type: entry.envelope.type,
          seq: String(entry.seq),
        });
        return false;
      }
      store.markDelivered(entry, now().toISOString());
    }
    return true;
  }

  /** One delivery run per chain at a time; a caller arriving during a run waits, then runs again. */
  const flush: PeerOutbox['flush'] = (to, tradeId, force = false) => {
    const key = `${to}\u0000${tradeId}`;
    const before = chains.get(key) ?? Promise.resolve(true);
    const run = before.then(
      () => deliverChain(to, tradeId, force),
      () => deliverChain(to, tradeId, force),
    );
    chains.set(key, run);
    void run
      .finally(() => {
        if (chains.get(key) === run) chains.delete(key);
      })
      .catch(() => undefined); // the caller gets the rejection; this branch must not be unhandled
    return run;
  };

  const flushAll = async (): Promise<void> => {
    const due = [...store.dueChains(now().toISOString())];
    const worker = async (): Promise<void> => {
      for (let c = due.shift(); c !== undefined; c = due.shift()) await flush(c.to, c.tradeId);
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  };

  return {
    queue,
    flush,
    flushAll,
    async send(toParty: string, message: OutgoingMessage): Promise<void> {
      const entry = queue(toParty, message.tradeId, message.type, message.body);
      if (entry.state === 'delivered') return;
      if (!(await flush(toParty, message.tradeId))) {
        throw new NotDeliveredError(`message ${message.type} of ${message.tradeId} to ${toParty} not delivered yet`, {
          to: toParty,
          tradeId: message.tradeId,
        });
      }
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = flushAll()
          .catch((err: unknown) => options.onError?.(err, { task: 'outbox retry' }))
          .finally(() => (sweeping = undefined));
      }, options.retryIntervalMs ?? 2000);
      timer.unref();
    },
    async close() {
      clearInterval(timer);
      timer = undefined;
      await sweeping;
      await Promise.allSettled([...chains.values()]);
    },
  };
}
