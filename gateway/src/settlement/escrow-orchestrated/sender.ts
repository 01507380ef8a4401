/**
 * Sends settlement messages in the background, one delivery per recipient, trade and content at a
 * time: a slow or unreachable party never blocks a trade's loop, and the same message asked for
 * again while it is on its way is not sent twice. Gateway messaging keeps a queued message and
 * retries it; what this adds is not waiting for it.
 */
import { canonicalHash } from '../../core/canonical';
import type { OutgoingMessage, SettlementMessenger } from '../messenger';

export class BackgroundSender {
  readonly #messenger: SettlementMessenger;
  readonly #onError: (err: unknown, context: Readonly<Record<string, string>>) => void;
  readonly #sending = new Map<string, Promise<void>>();

  constructor(
    messenger: SettlementMessenger,
    onError: (err: unknown, context: Readonly<Record<string, string>>) => void = () => undefined,
  ) {
    this.#messenger = messenger;
    this.#onError = onError;
  }

  send(to: string, message: OutgoingMessage): void {
    const key = `${to}\u0000${message.tradeId}\u0000${message.type}\u0000${canonicalHash(message.body)}`;
    if (this.#sending.has(key)) return;
    const run = this.#messenger
      .send(to, message)
      .catch((err: unknown) => this.#onError(err, { trade: message.tradeId, to, type: message.type }))
      .finally(() => this.#sending.delete(key));
    this.#sending.set(key, run);
  }

  /** Resolves when every delivery under way has ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#sending.values()]);
  }
}
