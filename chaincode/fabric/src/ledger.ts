/**
 * Typed access to world state: composite keys, canonical JSON values, balances with their
 * per-ISIN holder index, and the transaction clock. Domain modules never touch the stub directly.
 *
 * Keys (composite, `\u0000`-separated):
 * - `instrument` [isin] → {@link Instrument}
 * - `balance` [account, isin] → {@link Holding} (absent when zero)
 * - `holder` [isin, account] → `"1"`: index so one ISIN's holders can be listed
 * - `account` [accountId] → {@link Account}
 * - `htlc` [lockId] → {@link HtlcLock}; `escrow` [escrowId] → {@link Escrow}
 * - `config` ["policy"] → the access policy JSON
 */
import type { Context } from 'fabric-contract-api';

import { canonicalBytes } from './canonical';
import { fail } from './errors';
import { Holding, Instrument, record } from './model';

/** Object types of the composite keys. */
export type KeyType = 'instrument' | 'balance' | 'holder' | 'account' | 'htlc' | 'escrow' | 'config';

/** A raw key/value from a range scan. */
export interface Entry {
  readonly key: string;
  readonly value: string;
}

/** State access for one transaction. */
export class Ledger {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /** Transaction id (the same on every endorser). */
  get txId(): string {
    return this.#ctx.stub.getTxID();
  }

  /** Unix seconds from the transaction timestamp: never the local clock, so endorsers agree. */
  get now(): number {
    const ts = this.#ctx.stub.getTxTimestamp();
    return Number(ts.seconds.toString());
  }

  /** Composite key of `type` and `attrs`. */
  key(type: KeyType, ...attrs: string[]): string {
    return this.#ctx.stub.createCompositeKey(type, attrs);
  }

  /** Raw value at a composite key, undefined when absent. */
  async readRaw(type: KeyType, ...attrs: string[]): Promise<string | undefined> {
    const bytes = await this.#ctx.stub.getState(this.key(type, ...attrs));
    return bytes === undefined || bytes.length === 0 ? undefined : Buffer.from(bytes).toString('utf8');
  }

  /** The record at a composite key, as an instance of `cls`, undefined when absent. */
  async read<T extends object>(cls: new () => T, type: KeyType, ...attrs: string[]): Promise<T | undefined> {
    const raw = await this.readRaw(type, ...attrs);
    return raw === undefined ? undefined : record(cls, JSON.parse(raw) as T);
  }

  /** Writes `value` as canonical JSON (or a string verbatim) at a composite key. */
  async write(type: KeyType, attrs: readonly string[], value: object | string): Promise<void> {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : canonicalBytes(value);
    await this.#ctx.stub.putState(this.key(type, ...attrs), bytes);
  }

  /** Deletes a composite key. */
  async remove(type: KeyType, ...attrs: string[]): Promise<void> {
    await this.#ctx.stub.deleteState(this.key(type, ...attrs));
  }

  /** Every entry whose composite key starts with `type` and `attrs`, in key order. */
  async scan(type: KeyType, ...attrs: string[]): Promise<Entry[]> {
    const out: Entry[] = [];
    const iterator = await this.#ctx.stub.getStateByPartialCompositeKey(type, attrs);
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        out.push({ key: next.value.key, value: Buffer.from(next.value.value).toString('utf8') });
      }
    } finally {
      await iterator.close();
    }
    return out;
  }

  /** The instrument, or NOT_FOUND. */
  async instrument(isin: string): Promise<Instrument> {
    return (await this.read(Instrument, 'instrument', isin)) ?? fail('NOT_FOUND', 'no such instrument', { isin });
  }

  /** Free balance of `account` in `isin` (0 when none). */
  async balance(account: string, isin: string): Promise<bigint> {
    const holding = await this.read(Holding, 'balance', account, isin);
    return holding === undefined ? 0n : BigInt(holding.quantity);
  }

  /** Sets a free balance, keeping the holder index in step; zero balances are deleted. */
  async setBalance(account: string, isin: string, quantity: bigint): Promise<void> {
    if (quantity === 0n) {
      await this.remove('balance', account, isin);
      await this.remove('holder', isin, account);
      return;
    }
    await this.write('balance', [account, isin], record(Holding, { account, isin, quantity: quantity.toString() }));
    await this.write('holder', [isin, account], '1');
  }

  /** Adds to a free balance. */
  async credit(account: string, isin: string, quantity: bigint): Promise<bigint> {
    const after = (await this.balance(account, isin)) + quantity;
    await this.setBalance(account, isin, after);
    return after;
  }

  /** Takes from a free balance, or INSUFFICIENT_BALANCE with balance and amount needed. */
  async debit(account: string, isin: string, quantity: bigint): Promise<bigint> {
    const balance = await this.balance(account, isin);
    if (balance < quantity) {
      fail('INSUFFICIENT_BALANCE', 'free balance is lower than the quantity', {
        account,
        isin,
        balance: balance.toString(),
        needed: quantity.toString(),
      });
    }
    await this.setBalance(account, isin, balance - quantity);
    return balance - quantity;
  }
}
