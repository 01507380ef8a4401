import { createTradeEngine, type TradeEngine } from './engine';
import { type SettlementMode } from '../settlement/mode';
import { openStore, type GatewayStore } from '../store';
import { actorOf, FakeLedger, instructionOf, tempDbFile } from '../../testing/engine-fakes';
import { TradeError, type TradeErrorCode } from '../core/errors';

const BUYER = actorOf('BUYER');
const SELLER = actorOf('SELLER');
const SYSTEM = actorOf('BUYER', 'gateway');

async function expectCode(promise: Promise<unknown>, code: TradeErrorCode): Promise<TradeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TradeError);
  expect((err as TradeError).code).toBe(code);
  return err as TradeError;
}

describe('trade engine', () => {
  const tmp = tempDbFile();
  let store: GatewayStore;
  let engine: TradeEngine;

  beforeEach(() => {
    store = openStore(`${tmp.file}-${expect.getState().currentTestName?.replace(/\W+/g, '-')}`, { party: 'BUYER' });
    engine = createTradeEngine({ store, systemActor: SYSTEM, isKnownParty: (p) => p !== 'NOBODY' });
  });
  afterEach(() => store.close());
  afterAll(() => tmp.remove());

  describe('submit', () => {
    it('refuses an instrument the securities ledger lacks, and answers a retry without asking it', async () => {
      const asked: string[] = [];
      const strict = createTradeEngine({
        store,
        systemActor: SYSTEM,
        unknownInstrument: async (isin) => {
          asked.push(isin);
          return isin === 'US0378331005' ? undefined : `the securities chaincode has no instrument ${isin}`;
        },
      });
      const unknown = await expectCode(
        strict.submit(BUYER, 'k-unknown', instructionOf({ isin: 'US5949181045' })),
        'UNSUPPORTED_INSTRUCTION',
      );
      expect(unknown.message).toBe('the securities chaincode has no instrument US5949181045');
      const first = await strict.submit(BUYER, 'k-known', instructionOf());
      const retry = await strict.submit(BUYER, 'k-known', instructionOf());
      expect([first.replayed, retry.replayed]).toEqual([false, true]);
      expect(asked).toEqual(['US5949181045', 'US0378331005']);
    });

    it('records a received trade with one timeline step and one audit entry', async () => {
      const { trade, replayed } = await engine.submit(BUYER, 'k1', instructionOf());
      expect(replayed).toBe(false);
      expect(trade).toMatchObject({ tradeId: 'T-1', owner: 'BUYER', status: 'received' });
      expect(trade.instruction.quantity).toBe(100n);
      expect(trade.timeline).toEqual([
        expect.objectContaining({ event: 'received', status: 'received', actor: BUYER.subject }),
      ]);
      const { entries, verification } = await engine.audit({ tradeId: 'T-1' });
      expect(entries).toEqual([
        expect.objectContaining({ event: 'trade.received', actor: BUYER.fingerprint, party: 'BUYER' }),
      ]);
      expect(verification).toEqual({ ok: true, checked: 1 });
    });

    it('replays the first result for the same key and the same body (key order does not matter)', async () => {
      const first = await engine.submit(BUYER, 'k1', instructionOf());
      const reordered = Object.fromEntries(Object.entries(instructionOf()).reverse()) as ReturnType<
        typeof instructionOf
      >;
      const again = await engine.submit(BUYER, 'k1', reordered);
      expect(again).toEqual({ trade: first.trade, replayed: true });
      expect((await engine.audit({})).entries).toHaveLength(1);
    });

    it('rejects the same key with a different body as IDEMPOTENCY_CONFLICT', async () => {
      await engine.submit(BUYER, 'k1', instructionOf());
      const err = await expectCode(
        engine.submit(BUYER, 'k1', instructionOf({ quantity: 101n })),
        'IDEMPOTENCY_CONFLICT',
      );
      expect(err.context).toEqual({ idempotencyKey: 'k1', tradeId: 'T-1' });
    });

    it('creates exactly one trade from 10 concurrent submits with the same key', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, () => engine.submit(BUYER, 'same', instructionOf())),
      );
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      expect(await engine.list({})).toHaveLength(1);
      expect((await engine.audit({})).entries).toHaveLength(1);
    });

    it('creates one trade when two engines on the same file race with the same key', async () => {
      const other = openStore(store.db.name, { party: 'BUYER' });
      const second = createTradeEngine({ store: other, systemActor: SYSTEM });
      const results = await Promise.all(
        [0, 1, 2, 3].map((i) => (i % 2 ? engine : second).submit(BUYER, 'k', instructionOf())),
      );
      other.close();
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      expect(await engine.list({})).toHaveLength(1);
    });

    it('rejects a second key for an existing trade id as TRADE_EXISTS', async () => {
      await engine.submit(BUYER, 'k1', instructionOf());
      await expectCode(engine.submit(BUYER, 'k2', instructionOf()), 'TRADE_EXISTS');
    });

    it('rejects an unknown counterparty, and the own party as counterparty', async () => {
      await expectCode(engine.submit(BUYER, 'k1', instructionOf({ counterparty: 'NOBODY' })), 'UNKNOWN_COUNTERPARTY');
      await expectCode(engine.submit(BUYER, 'k2', instructionOf({ counterparty: 'BUYER' })), 'UNKNOWN_COUNTERPARTY');
    });
  });

  describe('get and list', () => {
    it('serves the party of its store only', async () => {
      await engine.submit(BUYER, 'k1', instructionOf());
      expect((await engine.get('T-1')).tradeId).toBe('T-1');
      await expectCode(engine.get('T-2'), 'TRADE_NOT_FOUND');
      await expectCode(
        engine.submit(SELLER, 'k2', instructionOf({ tradeId: 'T-2', counterparty: 'BUYER' })),
        'FORBIDDEN_PARTY',
      );
      await expectCode(engine.cancel(SELLER, 'T-1'), 'FORBIDDEN_PARTY');
      expect(await engine.list({})).toHaveLength(1);
      expect(() => openStore(store.db.name, { party: 'SELLER' })).toThrow(/holds the trades of party 'BUYER'/);
    });

    it('filters by status and counterparty', async () => {
      await engine.submit(BUYER, 'k1', instructionOf({ tradeId: 'A' }));
      await engine.submit(BUYER, 'k2', instructionOf({ tradeId: 'B', counterparty: 'OTHER' }));
      await engine.counterpartyNotice(SELLER, { tradeId: 'A', kind: 'matched' });
      expect((await engine.list({ status: 'matched' })).map((t) => t.tradeId)).toEqual(['A']);
      expect((await engine.list({ counterparty: 'OTHER' })).map((t) => t.tradeId)).toEqual(['B']);
      expect(await engine.list({ from: '2999-01-01T00:00:00.000Z' })).toEqual([]);
    });
  });

  describe('cancel', () => {
    it('cancels an unmatched trade at once', async () => {
      await engine.submit(BUYER, 'k1', instructionOf());
      const trade = await engine.cancel(BUYER, 'T-1');
      expect(trade).toMatchObject({ status: 'cancelled', reason: 'CANC' });
      expect(await engine.cancel(BUYER, 'T-1')).toEqual(trade); // a retried cancel answers the same
    });

    it('cancels a matched trade only when both sides have asked', async () => {
      await engine.submit(BUYER, 'k1', instructionOf());
      await engine.counterpartyNotice(SELLER, { tradeId: 'T-1', kind: 'matched' });
      expect((await engine.cancel(BUYER, 'T-1')).status).toBe('matched');
      expect((await engine.cancel(BUYER, 'T-1')).status).toBe('matched'); // repeating is a no-op
      const done = await engine.counterpartyNotice(SELLER, { tradeId: 'T-1', kind: 'cancel' });
      expect(done).toMatchObject({ status: 'cancelled', reason: 'CANC' });
      expect(done.timeline.map((s) => s.event)).toEqual([
        'received',
        'matched',
        'cancel_requested_own',
        'cancel_counterparty',
      ]);
      expect((await engine.audit({ tradeId: 'T-1' })).entries).toHaveLength(4);
      expect(await engine.cancel(BUYER, 'T-1')).toEqual(done);
      await expect(engine.counterpartyNotice(SELLER, { tradeId: 'T-1', kind: 'cancel' })).resolves.toEqual(done);
    });

    it('refuses to cancel once settlement has started', async () => {
      await engine.submit(BUYER, 'k1', instructionOf());
      await engine.counterpartyNotice(SELLER, { tradeId: 'T-1', kind: 'matched' });
      store.transaction(() => store.trades.setStatus('T-1', 'pending', new Date().toISOString()));
      const err = await expectCode(engine.cancel(BUYER, 'T-1'), 'INVALID_TRANSITION');
      expect(err.context).toMatchObject({ tradeId: 'T-1', status: 'pending' });
    });

    it('accepts notices only from the trade counterparty', async () => {
      await engine.submit(BUYER, 'k1', instructionOf());
      await expectCode(
        engine.counterpartyNotice(actorOf('MALLORY'), { tradeId: 'T-1', kind: 'matched' }),
        'FORBIDDEN_PARTY',
      );
    });

    it('rejects a second matched notice as INVALID_TRANSITION and leaves no trace', async () => {
      await engine.submit(BUYER, 'k1', instructionOf());
      await engine.counterpartyNotice(SELLER, { tradeId: 'T-1', kind: 'matched' });
      await expectCode(engine.counterpartyNotice(SELLER, { tradeId: 'T-1', kind: 'matched' }), 'INVALID_TRANSITION');
      expect((await engine.get('T-1')).timeline).toHaveLength(2);
      expect((await engine.audit({})).entries).toHaveLength(2);
    });
  });
});

/** A minimal mode: on match, go pending, lock once, then settle. */
function lockOnceMode(): SettlementMode {
  return {
    mode: 'htlc',
    async start(ctx, trade) {
      ctx.step(trade.tradeId, { event: 'settlement_started', to: 'pending' });
      const request = {
        receiver: '0xseller',
        asset: '0xcash',
        amount: trade.instruction.price,
        hashlock: 'ab'.repeat(32),
        expiry: 2_000_000_000,
      };
      const out = await ctx.perform(trade.tradeId, 'cash', { kind: 'lock', request });
      ctx.step(trade.tradeId, {
        event: 'locked',
        to: 'settled',
        ledger: 'evm',
        detail: { lockId: out.ledgerRef },
      });
    },
    async onLedgerEvent() {},
    async onMessage() {},
    async resume(ctx, trade, actions) {
      if (trade.status === 'pending' && actions.every((a) => a.state === 'done')) {
        ctx.step(trade.tradeId, {
          event: 'locked',
          to: 'settled',
          ledger: 'evm',
          detail: { lockId: actions[0]?.ledgerRef ?? '' },
        });
      }
    },
  };
}

describe('trade engine restart', () => {
  const tmp = tempDbFile();
  afterAll(() => tmp.remove());

  it.each([
    ['before-prepare', 'intent', ['tx-2']],
    ['after-prepare', 'prepared', ['tx-2']],
    ['after-broadcast', 'prepared', ['tx-1']],
  ] as const)('resumes a lock interrupted %s (journal: %s) without locking twice', async (crash, state, broadcasts) => {
    const file = `${tmp.file}-${crash}`;
    const ledger = new FakeLedger();
    ledger.crash = crash;
    const errors: unknown[] = [];
    let store = openStore(file, { party: 'BUYER' });
    const options = { systemActor: SYSTEM, modes: [lockOnceMode()], connectors: { cash: ledger } };
    let engine = createTradeEngine({ ...options, store, onError: (e) => errors.push(e) });
    await engine.submit(BUYER, 'k1', instructionOf());
    await engine.counterpartyNotice(SELLER, { tradeId: 'T-1', kind: 'matched' });
    await engine.idle();
    expect(errors).toHaveLength(1);
    expect(store.journal.unfinished()).toEqual([expect.objectContaining({ kind: 'lock', state })]);
    expect((await engine.get('T-1')).status).toBe('pending');
    store.close();

    ledger.crash = 'none';
    store = openStore(file, { party: 'BUYER' });
    engine = createTradeEngine({ ...options, store });
    expect(await engine.resume()).toEqual({ actionsDone: 1, actionsFailed: 0, tradesResumed: 1 });
    expect(ledger.locks.size).toBe(1);
    expect(ledger.broadcasts).toEqual(broadcasts);
    expect(store.journal.unfinished()).toEqual([]);
    expect((await engine.get('T-1')).status).toBe('settled');
    expect(await engine.resume()).toEqual({ actionsDone: 0, actionsFailed: 0, tradesResumed: 0 });
    expect((await engine.audit({})).verification.ok).toBe(true);
    store.close();
  });

  it('refuses a forbidden transition requested by a settlement mode, leaving no trace', async () => {
    const store = openStore(`${tmp.file}-forbidden`, { party: 'BUYER' });
    let attempt: Promise<unknown> = Promise.resolve();
    const mode: SettlementMode = {
      ...lockOnceMode(),
      start: async (ctx, trade) => {
        attempt = Promise.resolve().then(() => ctx.step(trade.tradeId, { event: 'jump', to: 'received' }));
        await attempt;
      },
    };
    const engine = createTradeEngine({ store, systemActor: SYSTEM, modes: [mode] });
    await engine.submit(BUYER, 'k1', instructionOf());
    await engine.counterpartyNotice(SELLER, { tradeId: 'T-1', kind: 'matched' });
    await engine.idle();
    await expectCode(attempt, 'INVALID_TRANSITION');
    expect((await engine.get('T-1')).timeline.map((s) => s.event)).toEqual(['received', 'matched']);
    expect((await engine.audit({})).entries).toHaveLength(2);
    store.close();
  });
});
