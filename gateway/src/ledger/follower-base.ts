/**
 * What every ledger's event follower shares: one sync at a time (a second caller shares the
 * running one), a self-rescheduling timer, and delivery of the stored, not yet handled events in
 * ledger order. A subclass only says how to read new events into the store (`ingest`) and how
 * to name a read failure (`readError`).
 */
import type { EventFollower, LedgerEventHandler, CheckpointStore } from './connector';
import type { LedgerName } from '../core/trade';

export abstract class PollingFollower implements EventFollower {
  abstract readonly stream: string;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  protected constructor(
    protected readonly ledger: LedgerName,
    protected readonly store: CheckpointStore,
    private readonly handler: LedgerEventHandler,
  ) {}

  /** Reads new events from the ledger into the store, with the checkpoint they complete. */
  protected abstract ingest(): Promise<void>;

  /** The error a failed read is reported as. */
  protected abstract readError(err: unknown): Error;

  syncOnce(): Promise<number> {
    this.#running ??= this.#sync().finally(() => (this.#running = undefined));
    return this.#running;
  }

  start(intervalMs: number, onError?: (err: unknown) => void): void {
    if (this.#timer) return;
    const tick = (): void => {
      this.syncOnce()
        .catch((err: unknown) => onError?.(err))
        .finally(() => {
          if (this.#timer) this.#timer = setTimeout(tick, intervalMs);
        });
    };
    this.#timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #sync(): Promise<number> {
    try {
      await this.ingest();
    } catch (err) {
      throw this.readError(err);
    }
    return this.#deliver();
  }

  /** Hands unhandled inbox events to the handler in order, marking each once it returns. */
  async #deliver(): Promise<number> {
    let delivered = 0;
    for (const { id, ...event } of this.store.unhandled(this.ledger, this.stream)) {
      await this.handler(event);
      this.store.markHandled(id);
      delivered += 1;
    }
    return delivered;
  }
}
