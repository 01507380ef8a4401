import { createHash } from 'node:crypto';

import { beforeEach, describe, expect, it } from '@jest/globals';

import { escrowIdOf } from './escrow';
import { TRANSACTIONS } from './policy';
import { expectOk, expectRejected } from './testing/expect';
import { makeFixture, ok, seed, TEST_ISIN } from './testing/fixture';
import type { Fixture } from './testing/fixture';

const T0 = 1_700_000_000;
const PREIMAGE = createHash('sha256').update('audit').digest('hex');
const HASHLOCK = createHash('sha256').update(Buffer.from(PREIMAGE, 'hex')).digest('hex');

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture(T0);
  await seed(fx, 1000n);
});

describe('audit', () => {
  describe('History', () => {
    it('returns every version of a lock, with transaction ids and times', async () => {
      const locked = ok(
        await fx.ledger.submit(
          fx.ids.alice,
          'LockHTLC',
          'L1',
          TEST_ISIN,
          '10',
          fx.ids.bob.account,
          HASHLOCK,
          String(T0 + 60),
        ),
      );
      fx.ledger.time = T0 + 5;
      const claimed = ok(await fx.ledger.submit(fx.ids.bob, 'ClaimHTLC', 'L1', PREIMAGE));
      const history = expectOk(await fx.ledger.evaluate(fx.ids.auditor, 'History', 'htlc/L1')) as Record<
        string,
        unknown
      >[];
      expect(history.map((h) => ({ ...h, value: JSON.parse(h['value'] as string).status }))).toEqual([
        { isDelete: false, timestamp: T0, txId: locked.txId, value: 'LOCKED' },
        { isDelete: false, timestamp: T0 + 5, txId: claimed.txId, value: 'CLAIMED' },
      ]);
    });

    it('accepts a JSON array key and shows deletions of emptied balances', async () => {
      ok(await fx.ledger.submit(fx.ids.alice, 'Transfer', TEST_ISIN, fx.ids.alice.account, fx.ids.bob.account, '1000'));
      const key = JSON.stringify(['balance', fx.ids.alice.account, TEST_ISIN]);
      const history = expectOk(await fx.ledger.evaluate(fx.ids.auditor, 'History', key)) as Record<string, unknown>[];
      expect(history.map((h) => [h['isDelete'], h['value']])).toEqual([
        [false, JSON.stringify({ account: fx.ids.alice.account, isin: TEST_ISIN, quantity: '1000' })],
        [true, ''],
      ]);
    });

    it.each(['htlc', 'wallet/x', '["htlc"]', '[1,2]', 'holder/x'])(
      'rejects the key %p with INVALID_ARGUMENT',
      async (key) => {
        expectRejected(await fx.ledger.evaluate(fx.ids.auditor, 'History', key), 'INVALID_ARGUMENT');
      },
    );

    it('is for auditors only', async () => {
      expectRejected(await fx.ledger.evaluate(fx.ids.alice, 'History', 'htlc/L1'), 'NOT_AUTHORIZED');
    });
  });

  describe('SupplyBreakdown', () => {
    it('splits the supply into free, locked and escrowed', async () => {
      ok(
        await fx.ledger.submit(
          fx.ids.alice,
          'LockHTLC',
          'L1',
          TEST_ISIN,
          '10',
          fx.ids.bob.account,
          HASHLOCK,
          String(T0 + 60),
        ),
      );
      ok(
        await fx.ledger.submit(
          fx.ids.alice,
          'EscrowDeposit',
          'T1',
          TEST_ISIN,
          '200',
          fx.ids.bob.account,
          fx.ids.manager.account,
          String(T0 + 60),
          '',
          '',
        ),
      );
      const e1 = escrowIdOf(fx.ids.alice.account, 'T1');
      ok(await fx.ledger.submit(fx.ids.manager, 'EscrowRelease', e1, '50', ''));
      expect(expectOk(await fx.ledger.evaluate(fx.ids.auditor, 'SupplyBreakdown', TEST_ISIN))).toEqual({
        escrowed: '150',
        free: '840',
        isin: TEST_ISIN,
        locked: '10',
        supply: '1000',
      });
    });
  });

  describe('Positions', () => {
    it('returns every non-zero holding and every lock and escrow of the ISIN, in any status', async () => {
      ok(await fx.ledger.submit(fx.ids.alice, 'Transfer', TEST_ISIN, fx.ids.alice.account, fx.ids.bob.account, '5'));
      ok(await fx.ledger.submit(fx.ids.bob, 'Transfer', TEST_ISIN, fx.ids.bob.account, fx.ids.alice.account, '5'));
      const lock = ['L1', TEST_ISIN, '10', fx.ids.bob.account, HASHLOCK, String(T0 + 60)];
      ok(await fx.ledger.submit(fx.ids.alice, 'LockHTLC', ...lock));
      const deposit = ['T1', TEST_ISIN, '200', fx.ids.bob.account, fx.ids.manager.account, String(T0 + 60), '', ''];
      ok(await fx.ledger.submit(fx.ids.alice, 'EscrowDeposit', ...deposit));
      const e1 = escrowIdOf(fx.ids.alice.account, 'T1');
      ok(await fx.ledger.submit(fx.ids.manager, 'EscrowRelease', e1, '200', ''));
      const p = expectOk(await fx.ledger.evaluate(fx.ids.auditor, 'Positions', TEST_ISIN)) as {
        instrument: { issued: string; redeemed: string };
        holdings: { account: string; quantity: string }[];
        locks: { lockId: string; status: string; quantity: string }[];
        escrows: { escrowId: string; status: string; released: string; remaining: string }[];
      };
      expect(p.instrument).toMatchObject({ issued: '1000', redeemed: '0' });
      // Bob's balance went to zero and back is not listed; his 200 from the release is.
      expect(p.holdings.map((h) => [h.account, h.quantity]).sort()).toEqual(
        [
          [fx.ids.alice.account, '790'],
          [fx.ids.bob.account, '200'],
        ].sort(),
      );
      expect(p.locks).toEqual([expect.objectContaining({ lockId: 'L1', status: 'LOCKED', quantity: '10' })]);
      expect(p.escrows).toEqual([
        expect.objectContaining({ escrowId: e1, status: 'RELEASED', released: '200', remaining: '0' }),
      ]);
    });

    it('is for auditors only', async () => {
      expectRejected(await fx.ledger.evaluate(fx.ids.alice, 'Positions', TEST_ISIN), 'NOT_AUTHORIZED');
    });
  });
});

interface TxMeta {
  name: string;
  tag: string[];
  parameters: { name: string; schema: object }[];
  returns?: object;
}
interface Metadata {
  contracts: Record<string, { transactions: TxMeta[] }>;
  components: { schemas: Record<string, { properties?: object }> };
}

describe('contract metadata', () => {
  const metadata = async (): Promise<Metadata> =>
    expectOk(await fx.ledger.evaluate(fx.ids.alice, 'org.hyperledger.fabric:GetMetadata')) as Metadata;

  it('lists every transaction with typed parameters, and the SUBMIT/EVALUATE tag', async () => {
    const txs = (await metadata()).contracts['securities']?.transactions ?? [];
    expect(txs.map((t) => t.name).sort()).toEqual([...TRANSACTIONS].sort());
    for (const tx of txs) {
      expect(tx.parameters.every((p) => 'type' in p.schema || '$ref' in p.schema)).toBe(true);
    }
    const tags = Object.fromEntries(txs.map((t) => [t.name, t.tag[0]]));
    expect(tags).toMatchObject({ LockHTLC: 'SUBMIT', GetHTLC: 'EVALUATE', History: 'EVALUATE', Transfer: 'SUBMIT' });
    const lock = txs.find((t) => t.name === 'LockHTLC');
    expect(lock?.returns).toEqual({ $ref: '#/components/schemas/HtlcLock' });
    expect(lock?.parameters.map((p) => p.name)).toEqual([
      'lockId',
      'isin',
      'quantity',
      'receiver',
      'hashlock',
      'expiry',
    ]);
  });

  it('types every transaction exactly: parameter names and types, return type, SUBMIT or EVALUATE', async () => {
    const S = { type: 'string' };
    const N = { type: 'number' };
    const ref = (name: string): object => ({ $ref: `#/components/schemas/${name}` });
    const list = (name: string): object => ({ type: 'array', items: ref(name) });
    // name → [tag, [param, schema]..., returns (undefined for void)]
    const expected: Record<string, [string, [string, object][], object | undefined]> = {
      ProposePolicy: ['SUBMIT', [['policyJson', S]], ref('PolicyProposal')],
      ApprovePolicy: ['SUBMIT', [['proposalId', S]], ref('PolicyProposal')],
      GetPolicy: ['EVALUATE', [], S],
      GetPolicyProposal: ['EVALUATE', [['proposalId', S]], ref('PolicyProposal')],
      CreateInstrument: [
        'SUBMIT',
        [
          ['isin', S],
          ['name', S],
          ['minSettlementUnit', S],
        ],
        ref('Instrument'),
      ],
      Instrument: ['EVALUATE', [['isin', S]], ref('Instrument')],
      TotalSupply: ['EVALUATE', [['isin', S]], S],
      SupplyBreakdown: ['EVALUATE', [['isin', S]], ref('SupplyBreakdown')],
      Positions: ['EVALUATE', [['isin', S]], ref('Positions')],
      OpenAccount: ['SUBMIT', [['accountId', S]], ref('Account')],
      Account: ['EVALUATE', [['accountId', S]], ref('Account')],
      Issue: [
        'SUBMIT',
        [
          ['isin', S],
          ['account', S],
          ['quantity', S],
        ],
        undefined,
      ],
      Redeem: [
        'SUBMIT',
        [
          ['isin', S],
          ['account', S],
          ['quantity', S],
        ],
        undefined,
      ],
      Transfer: [
        'SUBMIT',
        [
          ['isin', S],
          ['from', S],
          ['to', S],
          ['quantity', S],
        ],
        undefined,
      ],
      BalanceOf: [
        'EVALUATE',
        [
          ['isin', S],
          ['account', S],
        ],
        S,
      ],
      Holdings: ['EVALUATE', [['account', S]], list('Holding')],
      LockHTLC: [
        'SUBMIT',
        [
          ['lockId', S],
          ['isin', S],
          ['quantity', S],
          ['receiver', S],
          ['hashlock', S],
          ['expiry', N],
        ],
        ref('HtlcLock'),
      ],
      ClaimHTLC: [
        'SUBMIT',
        [
          ['lockId', S],
          ['preimage', S],
        ],
        ref('HtlcLock'),
      ],
      RefundHTLC: ['SUBMIT', [['lockId', S]], ref('HtlcLock')],
      GetHTLC: ['EVALUATE', [['lockId', S]], ref('HtlcLock')],
      EscrowDeposit: [
        'SUBMIT',
        [
          ['tradeId', S],
          ['isin', S],
          ['quantity', S],
          ['beneficiary', S],
          ['controller', S],
          ['expiry', N],
          ['hashlock', S],
          ['notary', S],
        ],
        ref('Escrow'),
      ],
      EscrowApprove: [
        'SUBMIT',
        [
          ['escrowId', S],
          ['quantity', S],
        ],
        ref('Escrow'),
      ],
      EscrowRelease: [
        'SUBMIT',
        [
          ['escrowId', S],
          ['quantity', S],
          ['preimage', S],
        ],
        ref('Escrow'),
      ],
      EscrowReturn: ['SUBMIT', [['escrowId', S]], ref('Escrow')],
      GetEscrow: ['EVALUATE', [['escrowId', S]], ref('Escrow')],
      History: ['EVALUATE', [['key', S]], list('HistoryEntry')],
    };
    expect(Object.keys(expected).sort()).toEqual([...TRANSACTIONS].sort());
    const txs = (await metadata()).contracts['securities']?.transactions ?? [];
    const actual = Object.fromEntries(
      txs.map((t) => [t.name, [t.tag[0], t.parameters.map((p) => [p.name, p.schema]), t.returns]]),
    );
    expect(actual).toEqual(expected);
  });

  it('types every property of every returned type', async () => {
    const schemas = (await metadata()).components.schemas;
    const types = Object.fromEntries(
      Object.entries(schemas).map(([name, schema]) => [
        name,
        Object.fromEntries(
          Object.entries((schema.properties ?? {}) as Record<string, { type?: string }>).map(([k, v]) => [k, v.type]),
        ),
      ]),
    );
    const numbers = new Set([
      'createdAt',
      'expiry',
      'settledAt',
      'updatedAt',
      'timestamp',
      'approvedAt',
      'approvalsUsed',
    ]);
    const arrays = new Set(['approvals', 'pending', 'escrows', 'holdings', 'locks']);
    // An object-typed property is a $ref, without a type.
    const objects = new Set(['instrument']);
    for (const [name, props] of Object.entries(types)) {
      for (const [prop, type] of Object.entries(props)) {
        const scalar = prop === 'isDelete' ? 'boolean' : numbers.has(prop) ? 'number' : 'string';
        const want = arrays.has(prop) ? 'array' : objects.has(prop) ? undefined : scalar;
        expect(`${name}.${prop}: ${type}`).toBe(`${name}.${prop}: ${want}`);
      }
    }
    expect(Object.keys(types).sort()).toEqual(
      [
        'Account',
        'Escrow',
        'HistoryEntry',
        'Holding',
        'HtlcLock',
        'Instrument',
        'PolicyApproval',
        'PolicyProposal',
        'Positions',
        'SupplyBreakdown',
      ].sort(),
    );
    // contract-api names a property's object type by its schema $id, without the path.
    expect(schemas['PolicyProposal']?.properties).toMatchObject({
      approvals: { type: 'array', items: { $ref: 'PolicyApproval' } },
      pending: { type: 'array', items: { type: 'string' } },
    });
  });

  it('describes every returned type, with properties in sorted order', async () => {
    const schemas = (await metadata()).components.schemas;
    const names = [
      'Instrument',
      'Holding',
      'Account',
      'HtlcLock',
      'Escrow',
      'SupplyBreakdown',
      'Positions',
      'HistoryEntry',
    ];
    for (const name of [...names, 'PolicyApproval', 'PolicyProposal']) {
      const keys = Object.keys(schemas[name]?.properties ?? {});
      expect({ name, keys }).toEqual({ name, keys: [...keys].sort() });
      expect(keys.length).toBeGreaterThan(2);
    }
  });
});
