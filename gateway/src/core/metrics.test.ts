import { register as promGlobalRegistry } from 'prom-client';
import { createGatewayMetrics, createMetricsRegistry } from './metrics';

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in the Prometheus text format', async () => {
    const m = createGatewayMetrics();
    m.tradesByStatus.inc({ status: 'received' }, 2);
    m.tradesByStatus.dec({ status: 'received' });
    m.tradesByStatus.set({ status: 'settled' }, 5);
    m.ledgerCallErrors.inc({ ledger: 'evm', operation: 'lock' });
    m.settlementLatency.observe({ mode: 'htlc' }, 12);
    const text = await m.registry.render();
    expect(text).toContain('# TYPE dvp_trades gauge\ndvp_trades{status="received"} 1\ndvp_trades{status="settled"} 5');
    expect(text).toContain(
      '# TYPE dvp_ledger_call_errors_total counter\ndvp_ledger_call_errors_total{ledger="evm",operation="lock"} 1',
    );
    expect(text).toContain('dvp_settlement_latency_seconds_bucket{mode="htlc",le="5"} 0');
    expect(text).toContain('dvp_settlement_latency_seconds_bucket{mode="htlc",le="15"} 1');
    expect(text).toContain('dvp_settlement_latency_seconds_bucket{mode="htlc",le="+Inf"} 1');
    expect(text).toContain('dvp_settlement_latency_seconds_sum{mode="htlc"} 12');
    expect(text).toContain('dvp_settlement_latency_seconds_count{mode="htlc"} 1');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('escapes label values', async () => {
    const r = createMetricsRegistry();
    r.counter('x_total', 'help', ['v']).inc({ v: 'a"b\\c\nd' });
    expect(await r.render()).toContain('x_total{v="a\\"b\\\\c\\nd"} 1');
  });

  it('refuses undeclared or missing labels, duplicate names and decreasing counters', () => {
    const r = createMetricsRegistry();
    const c = r.counter('c_total', 'help', ['a']);
    expect(() => c.inc({ a: '1', b: '2' })).toThrow(/undeclared metric labels: b/);
    expect(() => c.inc({})).toThrow(/label 'a' missing/);
    expect(() => c.inc({ a: '1' }, -1)).toThrow(/cannot decrease/);
    expect(() => r.gauge('c_total', 'again')).toThrow(/registered twice/);
    expect(() => r.gauge('bad-name', 'x')).toThrow(/invalid metric name/);
  });

  it('keeps each gateway its own registry, with the process metrics, and leaves the global one empty', async () => {
    const a = createGatewayMetrics();
    const b = createGatewayMetrics();
    a.ledgerCallErrors.inc({ ledger: 'fabric', operation: 'lock' }, 3);
    const [textA, textB] = await Promise.all([a.registry.render(), b.registry.render()]);
    expect(textA).toMatch(/^dvp_ledger_call_errors_total\{ledger="fabric",operation="lock"\} 3$/m);
    expect(textB).not.toMatch(/^dvp_ledger_call_errors_total\{/m);
    for (const text of [textA, textB]) {
      expect(text).toMatch(/^# TYPE process_cpu_seconds_total counter$/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds \S+$/m);
      expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
    }
    expect(promGlobalRegistry.getMetricsAsArray()).toEqual([]);
    expect(await createMetricsRegistry().render()).toBe('\n');
  });

  it('writes labels in their declared order, with le last on histogram buckets', async () => {
    const r = createMetricsRegistry();
    r.counter('c_total', 'help', ['a', 'b']).inc({ b: '2', a: '1' });
    r.histogram('h_seconds', 'help', [2, 1], ['x', 'y']).observe({ y: 'p} 1', x: 'q' }, 1.5);
    r.histogram('u_seconds', 'help', [1]).observe({}, 0.5);
    expect(() => r.histogram('v_seconds', 'help', [1], ['le'])).toThrow(/invalid label name 'le'/);
    expect(() => r.counter('w_total', 'help', ['bad-label'])).toThrow(/invalid label name 'bad-label'/);
    const text = await r.render();
    expect(text).toContain('c_total{a="1",b="2"} 1');
    expect(text).toContain('h_seconds_bucket{x="q",y="p} 1",le="1"} 0\nh_seconds_bucket{x="q",y="p} 1",le="2"} 1');
    expect(text).toContain('h_seconds_bucket{x="q",y="p} 1",le="+Inf"} 1\nh_seconds_sum{x="q",y="p} 1"} 1.5');
    expect(text).toContain('u_seconds_bucket{le="1"} 1\nu_seconds_bucket{le="+Inf"} 1\nu_seconds_sum 0.5');
  });

  it('runs the collect hooks at every render', async () => {
    const r = createMetricsRegistry();
    const g = r.gauge('g', 'help');
    let n = 0;
    r.onCollect(() => g.set({}, (n += 1)));
    expect(await r.render()).toMatch(/^g 1$/m);
    expect(await r.render()).toMatch(/^g 2$/m);
  });
});
