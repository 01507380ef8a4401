import { parseRecord, recordBody, RecordError, RECORD_STEPS } from './record';

const TERMS = 'ab'.repeat(32);

/** The RecordError `fn` throws (anything else is rethrown, no throw fails the test). */
function refusalOf(fn: () => unknown): RecordError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RecordError) return err;
    throw err;
  }
  throw new Error('expected a RecordError');
}
const AT = '2026-11-24T13:00:00Z';

describe('observer records', () => {
  describe('recordBody', () => {
    it('writes amounts as decimal strings and leaves undefined fields out', () => {
      const body = recordBody({
        step: 'deposit_verified',
        termsHash: TERMS,
        leg: 'cash',
        ledger: 'evm',
        escrowId: '0xe1',
        amount: 1_234_567n,
        beneficiary: '0xB0b',
        depositor: undefined,
        reason: undefined,
        at: AT,
      });
      expect(body).toEqual({
        step: 'deposit_verified',
        termsHash: TERMS,
        leg: 'cash',
        ledger: 'evm',
        escrowId: '0xe1',
        amount: '1234567',
        beneficiary: '0xB0b',
        at: AT,
      });
    });

    it('round-trips through parseRecord', () => {
      const record = {
        step: 'released',
        termsHash: TERMS,
        ledger: 'fabric',
        escrowId: 'E-1',
        txId: 'tx-9',
        block: '42',
        amount: 7n,
        state: 'released',
        at: AT,
      } as const;
      expect(parseRecord(recordBody(record))).toEqual(record);
    });

    it('refuses to build a record the observer would refuse', () => {
      expect(refusalOf(() => recordBody({ step: 'decided', termsHash: TERMS, amount: -1n, at: AT }))).toMatchObject({
        code: 'RECORD_INVALID',
        context: { field: 'amount' },
      });
    });
  });

  describe('parseRecord', () => {
    const valid = { step: 'decided', termsHash: TERMS, decision: 'commit', at: AT };

    it('accepts every step of the vocabulary', () => {
      for (const step of RECORD_STEPS) expect(parseRecord({ ...valid, step }).step).toBe(step);
    });

    const DECIMAL = 'must be a decimal integer string (no sign, fraction or leading zeros) of at most 2^256 - 1';
    it.each([
      ['an unknown step', { step: 'settled' }, 'step', `must be one of ${RECORD_STEPS.join(', ')}`],
      ['an unknown leg', { leg: 'bonds' }, 'leg', 'must be one of securities, cash'],
      ['an unknown ledger', { ledger: 'besu' }, 'ledger', 'must be one of fabric, evm'],
      ['an unknown state', { state: 'frozen' }, 'state', 'must be one of held, released, returned'],
      ['an unknown decision', { decision: 'maybe' }, 'decision', 'must be one of commit, abort'],
      ['a fractional amount', { amount: '1.5' }, 'amount', DECIMAL],
      ['a negative amount', { amount: '-5' }, 'amount', DECIMAL],
      ['an amount with a leading zero', { amount: '05' }, 'amount', DECIMAL],
      ['an amount above 2^256 - 1', { amount: (1n << 256n).toString() }, 'amount', DECIMAL],
      ['a block in hex', { block: '0x10' }, 'block', DECIMAL],
      ['a terms hash that is no SHA-256', { termsHash: 'abc' }, 'termsHash', 'must be 64 lower-case hex digits'],
      ['a time that is not ISO 8601', { at: 'yesterday' }, 'at', 'must be an ISO 8601 date and time'],
      ['an empty escrow id', { escrowId: '' }, 'escrowId', 'must be 1 to 1024 characters'],
      ['a field outside the vocabulary', { preimage: '00' }, 'preimage', 'is not a record field'],
    ])('refuses %s', (_what, change, field, what) => {
      const err = refusalOf(() => parseRecord({ ...valid, ...change }, { tradeId: 'T-1', from: 'MANAGER' }));
      expect(err).toMatchObject({
        code: 'RECORD_INVALID',
        message: `record field '${field}' ${what}`,
        context: { tradeId: 'T-1', from: 'MANAGER', field },
      });
    });

    it.each(['step', 'termsHash', 'at'])('refuses a record without %s', (field) => {
      const body: Record<string, string> = { ...valid };
      delete body[field];
      expect(refusalOf(() => parseRecord(body))).toMatchObject({
        code: 'RECORD_INVALID',
        message: `record field '${field}' is required`,
        context: { field },
      });
    });
  });
});
