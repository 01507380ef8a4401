/**
 * What the engine tells operators besides trades: refusals of instructions it could not settle,
 * and the metrics behind `GET /metrics` (trades by status at each scrape, settlement latency,
 * failed ledger actions).
 */
import { createTradeEngine } from './engine';
import { type SettlementMode } from '../settlement/mode';
import { createGatewayMetrics } from '../core/metrics';
import { openStore, type GatewayStore } from '../store';
import { actorOf, FakeLedger, instructionOf, tempDbFile } from '../../testing/engine-fakes';

const BUYER = actorOf('BUYER');
const SELLER_GW = actorOf('SELLER', 'gateway');
const SYSTEM = actorOf('BUYER', 'gateway');

const tmp = tempDbFile();
let store: GatewayStore;
beforeEach(() => {
  store = openStore(`${tmp.file}-${expect.getState().currentTestName?.replace(/\W+/g, '-')}`, { party: 'BUYER' });
});
afterEach(() => store.close());
afterAll(() => tmp.remove());

it('refuses an instruction it could not settle, with the reason, and records nothing', async () => {
  const engine = createTradeEngine({
    store,
    systemActor: SYSTEM,
    cannotSettle: (i) => (i.currency === 'EUR' ? undefined : `currency ${i.currency} cannot settle here`),
  });
  await expect(engine.submit(BUYER, 'k1', instructionOf({ currency: 'USD' }))).rejects.toMatchObject({
    code: 'UNSUPPORTED_INSTRUCTION',
    message: 'currency USD cannot settle here',
  });
  expect(await engine.list({})).toEqual([]);
  await expect(engine.submit(BUYER, 'k1', instructionOf())).resolves.toMatchObject({ replayed: false });
});

it('renders trades by status at each scrape, the settlement latency and failed ledger actions', async () => {
  const metrics = createGatewayMetrics();
  const ledger = new FakeLedger();
  // A mode that fails its lock (the fake ledger refuses it) and then settles the trade anyway.
  const mode: SettlementMode = {
    mode: 'htlc',
    async start(ctx, trade) {
      await ctx
        .perform(trade.tradeId, 'cash', {
          kind: 'refund',
          lockId: '0xnone',
        })
        .catch(() => undefined);
      ctx.step(trade.tradeId, { event: 'started', to: 'pending' });
      ctx.step(trade.tradeId, { event: 'done', to: 'settled' });
    },
    onLedgerEvent: async () => undefined,
    onMessage: async () => undefined,
    resume: async () => undefined,
  };
  const engine = createTradeEngine({
    store,
    systemActor: SYSTEM,
    metrics,
    modes: [mode],
    connectors: { cash: ledger },
  });
  await engine.submit(BUYER, 'k1', instructionOf({ tradeId: 'T-1' }));
  await engine.submit(BUYER, 'k2', instructionOf({ tradeId: 'T-2' }));
  expect(await metrics.registry.render()).toMatch(/^dvp_trades\{status="received"\} 2$/m);
  await engine.counterpartyNotice(SELLER_GW, { tradeId: 'T-1', kind: 'matched' });
  await engine.idle();
  const text = await metrics.registry.render();
  expect(text).toMatch(/^dvp_trades\{status="received"\} 1$/m);
  expect(text).toMatch(/^dvp_trades\{status="settled"\} 1$/m);
  expect(text).toMatch(/^dvp_trades\{status="failed"\} 0$/m);
  expect(text).toMatch(/^dvp_settlement_latency_seconds_count\{mode="htlc"\} 1$/m);
  expect(text).toMatch(/^dvp_ledger_call_errors_total\{ledger="evm",operation="refund"\} 1$/m);
});
