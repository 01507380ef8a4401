import type { EscrowView, LedgerConnector } from '../../ledger/connector';
import { LedgerError } from '../../ledger/errors';
import { FakeLedger } from '../../../testing/engine-fakes';
import { verifyOnLedgers, type CheckedRecord } from './ledgers';
import type { ObserverRecord } from './record';

const TERMS = 'cd'.repeat(32);
const AT = '2026-11-24T13:00:00.000Z';
const BUYER_EVM = '0xB0b0000000000000000000000000000000000002';
const SELLER_EVM = '0x5e11000000000000000000000000000000000003';

/** A cash escrow of T-1 on the EVM, deposited by the buyer for the seller, held. */
const cashEscrow = (overrides: Partial<EscrowView> = {}): EscrowView => ({
  escrowId: '0xe1',
  tradeId: 'T-1',
  depositor: BUYER_EVM,
  beneficiary: SELLER_EVM,
  controller: '0xmanager',
  asset: '0xcash',
  amount: 1_000n,
  released: 0n,
  expiry: 2_000_000_000,
  state: 'held',
  ...overrides,
});

/** Entry `seq` of T-1 with a record about escrow 0xe1 on the EVM; override any field. */
const entryOf = (seq: number, fields: Partial<ObserverRecord> = {}): CheckedRecord => ({
  seq,
  tradeId: 'T-1',
  record: { step: 'deposit_verified', termsHash: TERMS, at: AT, ledger: 'evm', escrowId: '0xe1', ...fields },
});

describe('verifyOnLedgers', () => {
  let evm: FakeLedger;
  let fabric: FakeLedger;
  beforeEach(() => {
    evm = new FakeLedger('evm');
    fabric = new FakeLedger('fabric');
    evm.escrows.set('0xe1', cashEscrow());
  });

  it('bears out records that match their escrow, comparing EVM addresses case-insensitively', async () => {
    const records = [
      entryOf(1, {
        amount: 1_000n,
        beneficiary: SELLER_EVM.toLowerCase(),
        depositor: BUYER_EVM.toUpperCase().replace('0X', '0x'),
        state: 'held',
      }),
      { seq: 2, tradeId: 'T-1', record: { step: 'registered', termsHash: TERMS, at: AT } },
      { seq: 3, tradeId: 'T-1', record: undefined },
    ] as const;
    expect(await verifyOnLedgers(records, { evm })).toEqual({ ok: true, checked: 1, mismatches: [] });
  });

  it('takes a held record as right whatever the escrow became since', async () => {
    evm.escrows.set('0xe1', cashEscrow({ state: 'released', released: 1_000n }));
    expect(await verifyOnLedgers([entryOf(1, { state: 'held' })], { evm })).toEqual({
      ok: true,
      checked: 1,
      mismatches: [],
    });
  });

  it('names every field the escrow contradicts, one mismatch each', async () => {
    evm.escrows.set('0xe1', cashEscrow({ tradeId: 'T-2', state: 'returned' }));
    const record = entryOf(4, { amount: 5n, beneficiary: '0xeve', depositor: '0xmallory', state: 'released' });
    expect(await verifyOnLedgers([record], { evm })).toEqual({
      ok: false,
      checked: 1,
      mismatches: [
        { seq: 4, reason: 'escrow 0xe1 is of trade T-2' },
        { seq: 4, reason: 'amount 5 recorded, 1000 on evm' },
        { seq: 4, reason: `beneficiary 0xeve recorded, ${SELLER_EVM} on evm` },
        { seq: 4, reason: `depositor 0xmallory recorded, ${BUYER_EVM} on evm` },
        { seq: 4, reason: 'state released recorded, returned on evm' },
      ],
    });
  });

  it('compares Fabric account ids exactly', async () => {
    fabric.escrows.set('E-1', cashEscrow({ escrowId: 'E-1', beneficiary: 'BuyerMSP:CN=buyer' }));
    const record = entryOf(1, { ledger: 'fabric', escrowId: 'E-1', beneficiary: 'buyermsp:cn=buyer' });
    expect((await verifyOnLedgers([record], { fabric })).mismatches).toEqual([
      { seq: 1, reason: 'beneficiary buyermsp:cn=buyer recorded, BuyerMSP:CN=buyer on fabric' },
    ]);
  });

  it('reports an escrow the ledger does not have', async () => {
    expect(await verifyOnLedgers([entryOf(7, { escrowId: '0xe9' })], { evm })).toEqual({
      ok: false,
      checked: 1,
      mismatches: [{ seq: 7, reason: 'escrow 0xe9 not found on evm' }],
    });
  });

  it('reports a ledger that cannot be read, or has no connector, as a mismatch and never throws', async () => {
    const down: LedgerConnector = Object.assign(new FakeLedger('evm'), {
      readEscrow: () => Promise.reject(new LedgerError('UNAVAILABLE', 'evm', 'connection refused')),
    });
    const records = [entryOf(1), entryOf(2, { ledger: 'fabric', escrowId: 'E-1' })];
    expect(await verifyOnLedgers(records, { evm: down })).toEqual({
      ok: false,
      checked: 2,
      mismatches: [
        { seq: 1, reason: 'ledger unavailable: connection refused' },
        { seq: 2, reason: 'ledger unavailable: this observer has no fabric connector' },
      ],
    });
  });

  it('reads each escrow once, however many records name it', async () => {
    const reads = jest.spyOn(evm, 'readEscrow');
    await verifyOnLedgers([entryOf(1), entryOf(2, { step: 'released' }), entryOf(3, { escrowId: '0xe2' })], { evm });
    expect(reads.mock.calls).toEqual([['0xe1'], ['0xe2']]);
  });
});
