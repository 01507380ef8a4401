/**
 * The checker's ledger-free rules: that each one reports what it exists to catch, so a green
 * check at the end of a cross-ledger test means something. Readings are made up here; the
 * readers are exercised on the real ledgers in checker.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { keccak256, stringToHex } from 'viem';
import {
  conservationProblems,
  hashlockKey,
  tradeKeyOf,
  tradeProblems,
  type AssetReading,
  type LegRecord,
} from './records';

const lock = (over: Partial<LegRecord> = {}): LegRecord => ({
  ledger: 'fabric',
  kind: 'htlc',
  id: 'l1',
  key: 'k',
  deposited: 10n,
  delivered: 10n,
  returned: 0n,
  open: false,
  ...over,
});

const reading = (over: Partial<AssetReading> = {}): AssetReading => ({
  asset: 'fabric XS0000000001',
  supply: 100n,
  reportedSupply: 100n,
  free: 90n,
  locked: 10n,
  escrowed: 0n,
  records: [lock({ delivered: 0n, open: true })],
  problems: [],
  ...over,
});

describe('conservation', () => {
  it('passes when free + locked + escrowed is the supply and the records hold what the contracts hold', () => {
    expect(conservationProblems(reading())).toEqual([]);
  });

  it('reports units created or lost', () => {
    expect(conservationProblems(reading({ free: 91n }))).toEqual([
      'fabric XS0000000001: free 91 + locked 10 + escrowed 0 = 101 ≠ supply 100',
    ]);
  });

  it("reports a ledger's own supply figure that disagrees with issued − redeemed", () => {
    expect(conservationProblems(reading({ reportedSupply: 99n }))).toEqual([
      'fabric XS0000000001: the ledger reports a supply of 99, issued − redeemed is 100',
    ]);
  });

  it('reports a contract holding more or less than its open locks and escrows', () => {
    const escrow = lock({ kind: 'escrow', id: 'e1', deposited: 5n, delivered: 2n, returned: 0n, open: true });
    const problems = conservationProblems(
      reading({ free: 85n, escrowed: 5n, records: [lock({ open: false }), escrow] }),
    );
    expect(problems).toEqual([
      'fabric XS0000000001: open locks hold 0, the HTLC holds 10',
      'fabric XS0000000001: open escrows hold 3, the escrows hold 5',
    ]);
  });

  it('reports a record that paid out more than it received, or whose state contradicts its figures', () => {
    const overpaid = lock({ delivered: 10n, returned: 10n });
    const closedButHolding = lock({ id: 'l2', delivered: 0n, open: false });
    const problems = conservationProblems(
      reading({ locked: 0n, free: 100n, records: [overpaid, closedButHolding], problems: ['read problem'] }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'read problem',
        'fabric XS0000000001: htlc l1 paid out 10 + 10, more than its 10',
        'fabric XS0000000001: htlc l2 is closed with 10 deposited',
      ]),
    );
  });
});

describe('atomicity per trade', () => {
  const securities = [lock()];
  const cash = [lock({ ledger: 'evm', deposited: 15_000n, delivered: 15_000n })];

  it('passes when both legs were delivered, or both returned', () => {
    expect(tradeProblems('t', { securities, cash })).toEqual([]);
    const back = (r: LegRecord) => ({ ...r, delivered: 0n, returned: r.deposited });
    expect(tradeProblems('t', { securities: securities.map(back), cash: cash.map(back) })).toEqual([]);
    expect(tradeProblems('t', { securities: securities.map(back), cash: [] })).toEqual([]);
  });

  it('reports one leg delivered and the other returned or never locked', () => {
    const refunded = cash.map((r) => ({ ...r, delivered: 0n, returned: r.deposited }));
    expect(tradeProblems('t', { securities, cash: refunded })).toEqual([
      't: not atomic: 10 of 10 securities delivered, 0 of 15000 cash',
    ]);
    expect(tradeProblems('t', { securities, cash: [] })).toEqual([
      't: not atomic: 10 of 10 securities delivered, 0 of 0 cash',
    ]);
  });

  it('reports a trade still holding units', () => {
    const open = [lock({ delivered: 0n, open: true })];
    expect(tradeProblems('t', { securities: open, cash })).toContain('t: not at its end (securities still held)');
  });

  it('accepts partial deliveries in proportion and refuses them out of proportion', () => {
    const part = (r: LegRecord, d: bigint) => ({ ...r, delivered: d, returned: r.deposited - d });
    expect(tradeProblems('t', { securities: [part(lock(), 4n)], cash: [part(cash[0] as LegRecord, 6_000n)] })).toEqual(
      [],
    );
    expect(tradeProblems('t', { securities: [part(lock(), 4n)], cash: [part(cash[0] as LegRecord, 7_000n)] })).toEqual([
      't: not atomic: 4 of 10 securities delivered, 7000 of 15000 cash',
    ]);
  });

  it("checks deliveries against the trade's quantity and amount", () => {
    const terms = { tradeId: 't', quantity: 10n, amount: 15_000n };
    expect(tradeProblems('t', { securities, cash }, terms)).toEqual([]);
    expect(tradeProblems('t', { securities, cash }, { ...terms, amount: 14_000n })).toEqual([
      't: 10 securities for 15000 cash is not 10 for 14000',
      't: delivered more than the trade (10 securities, 15000 cash)',
    ]);
  });
});

describe('keys', () => {
  it('pairs a hashlock with or without 0x, in either case', () => {
    expect(hashlockKey(`0x${'AB'.repeat(32)}`)).toBe('ab'.repeat(32));
  });

  it('derives the EVM trade key of a trade id as the escrow contract stores it', () => {
    expect(tradeKeyOf('trade-1')).toBe(keccak256(stringToHex('trade-1')).slice(2));
    expect(tradeKeyOf(`0x${'0F'.repeat(32)}`)).toBe('0f'.repeat(32));
  });
});
