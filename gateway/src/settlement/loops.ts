/**
 * One loop per trade: it runs a step, and sleeps until its poll interval ends or something about
 * the trade (a message, a ledger event) wakes it. Loops of different trades run concurrently;
 * there is no lock across trades. A wake during a running step is not lost.
 */

/** What a step asks of its loop: run again now, sleep until woken or polled, or stop. */
export type Next = 'progress' | 'wait' | 'done';

/** A wake-up that resolves a sleep early, or makes the next sleep return at once. */
class Waker {
  #pending = false;
  #resolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => this.wake(), ms);
    });
  }

  wake(): void {
    clearTimeout(this.#timer);
    const resolve = this.#resolve;
    this.#resolve = undefined;
    if (resolve) resolve();
    else this.#pending = true;
  }
}

/** Options of {@link TradeLoops}. */
export interface TradeLoopsOptions {
  readonly pollIntervalMs: number;
  /** A step threw: reported, and the step runs again at the next poll. */
  readonly onError: (err: unknown, key: string) => void;
  /** A loop ended (its trade is done, or the loops were closed). */
  readonly onEnd: (key: string) => void;
}

/** The running loops, by trade key. */
export class TradeLoops {
  readonly #o: TradeLoopsOptions;
  readonly #loops = new Map<string, { readonly done: Promise<void>; readonly waker: Waker }>();
  #closed = false;

  constructor(options: TradeLoopsOptions) {
    this.#o = options;
  }

  /** Runs `step` in a loop for `key` unless one runs already (then wakes it); resolves when it ends. */
  run(key: string, step: () => Promise<Next>): Promise<void> {
    const running = this.#loops.get(key);
    if (running) {
      running.waker.wake();
      return running.done;
    }
    if (this.#closed) return Promise.resolve();
    const waker = new Waker();
    const done = this.#loop(key, step, waker).finally(() => {
      this.#loops.delete(key);
      this.#o.onEnd(key);
    });
    this.#loops.set(key, { done, waker });
    return done;
  }

  /** Wakes the loop of `key`; false when none runs. */
  wake(key: string): boolean {
    const loop = this.#loops.get(key);
    loop?.waker.wake();
    return loop !== undefined;
  }

  /** Resolves when no loop runs. */
  async idle(): Promise<void> {
    while (this.#loops.size > 0) await Promise.allSettled([...this.#loops.values()].map((l) => l.done));
  }

  /** Ends every loop after its current step; no new loop starts. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const loop of this.#loops.values()) loop.waker.wake();
    await this.idle();
  }

  async #loop(key: string, step: () => Promise<Next>, waker: Waker): Promise<void> {
    while (!this.#closed) {
      let next: Next;
      try {
        next = await step();
      } catch (err) {
        this.#o.onError(err, key);
        next = 'wait';
      }
      if (next === 'done') return;
      if (next === 'wait' && !this.#closed) await waker.sleep(this.#o.pollIntervalMs);
    }
  }
}
