import { createGatewayMetrics, createMetricsRegistry } from './metrics';

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in the Prometheus text format', () => {
    const m = createGatewayMetrics();
    m.tradesByStatus.inc({ status: 'received' }, 2);
    m.tradesByStatus.dec({ status: 'received' });
    m.tradesByStatus.set({ status: 'settled' }, 5);
    m.ledgerCallErrors.inc({ ledger: 'evm', operation: 'lock' });
    m.settlementLatency.observe({ mode: 'htlc' }, 12);
    const text = m.registry.render();
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

  it('escapes label values', () => {
    const r = createMetricsRegistry();
    r.counter('x_total', 'help', ['v']).inc({ v: 'a"b\\c\nd' });
    expect(r.render()).toContain('x_total{v="a\\"b\\\\c\\nd"} 1');
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
});
