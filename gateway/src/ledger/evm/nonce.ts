/**
 * Local nonce allocation for one EVM signer. Concurrent transactions never collide: nonces are
 * handed out from a local counter, and only the allocation (not the broadcast or the wait for
 * the receipt) is serialized. The counter starts from, and after a nonce error is re-synced to,
 * `eth_getTransactionCount(address, "pending")`. It assumes the key is used by this process only.
 */

/** A FIFO async mutex. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `fn` when every earlier caller has finished. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** Reads the node's pending transaction count of the signer. */
export type PendingCount = () => Promise<number>;

/** Nonces of one signer. Use {@link NonceManager.allocate} inside {@link NonceManager.exclusive}. */
export class NonceManager {
  readonly #pendingCount: PendingCount;
  readonly #mutex = new Mutex();
  #next: number | undefined;

  /** `pendingCount` is called on first use and after {@link invalidate}. */
  constructor(pendingCount: PendingCount) {
    this.#pendingCount = pendingCount;
  }

  /**
   * Runs `fn` with the allocation lock held, so whatever `fn` derives from the nonce order (an
   * HTLC lock id, the journal entry) is consistent with it. Keep `fn` short: no broadcast inside.
   */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.#mutex.run(fn);
  }

  /** The next nonce; only call from inside {@link exclusive}. */
  async allocate(): Promise<number> {
    this.#next ??= await this.#pendingCount();
    const nonce = this.#next;
    this.#next += 1;
    return nonce;
  }

  /**
   * Gives back `nonce` when its transaction was never broadcast: only the latest allocation can
   * be taken back; otherwise the counter is re-synced at the next allocation.
   */
  release(nonce: number): void {
    if (this.#next === nonce + 1) this.#next = nonce;
    else this.invalidate();
  }

  /** Forgets the counter: the next allocation re-reads the node's pending count. */
  invalidate(): void {
    this.#next = undefined;
  }
}

/** True for node errors that mean "this nonce cannot be used" (resync and try another). */
export function isNonceError(message: string): boolean {
  return /nonce too (low|high)|invalid nonce|replacement transaction underpriced|nonce has already been used/i.test(
    message,
  );
}

/** True when the node already has exactly this transaction (the broadcast is then a success). */
export function isAlreadyKnown(message: string): boolean {
  return /already known|known transaction|already imported/i.test(message);
}
