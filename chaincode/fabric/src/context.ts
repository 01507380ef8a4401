/** The transaction context: fabric's Context plus the resolved caller and typed state access. */
import { Context } from 'fabric-contract-api';

import { fail } from './errors';
import type { Caller } from './identity';
import type { Ledger } from './ledger';

/** Set up by the contract's `beforeTransaction` before any transaction function runs. */
export class SecuritiesContext extends Context {
  #caller: Caller | undefined;
  #ledger: Ledger | undefined;

  /** Called once per transaction by the contract. */
  bind(caller: Caller, ledger: Ledger): void {
    this.#caller = caller;
    this.#ledger = ledger;
  }

  /** The invoking identity. */
  get caller(): Caller {
    return this.#caller ?? fail('NOT_AUTHORIZED', 'caller not resolved');
  }

  /** State access for this transaction. */
  get ledger(): Ledger {
    if (this.#ledger === undefined) throw new Error('ledger used before beforeTransaction');
    return this.#ledger;
  }
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Validates a lock, escrow or trade id: 1-128 of `[A-Za-z0-9._:-]`. */
export function requireId(id: string, field: string): string {
  if (!ID.test(id)) fail('INVALID_ARGUMENT', `${field} must be 1-128 characters of [A-Za-z0-9._:-]`, { field });
  return id;
}

/** Validates an expiry: a safe integer strictly after `now` (unix seconds). */
export function requireFutureExpiry(expiry: number, now: number): number {
  if (!Number.isSafeInteger(expiry) || expiry <= now) {
    fail('INVALID_ARGUMENT', 'expiry must be an integer number of unix seconds after the transaction time', {
      expiry: String(expiry),
      now,
    });
  }
  return expiry;
}
