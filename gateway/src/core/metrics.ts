/**
 * Prometheus metrics on prom-client (text exposition format 0.0.4): counters, gauges and
 * histograms with labels, each gateway with its own prom-client `Registry` (never prom-client's
 * global one, so gateways in one process do not share or collide). The gateway registers its own
 * metrics, plus prom-client's default process and Node.js metrics (`process_*`, `nodejs_*`), in
 * {@link createGatewayMetrics}; the engine updates them through the same handles.
 *
 * The thin layer kept over prom-client: labels are checked strictly (an undeclared or a missing
 * label throws; prom-client accepts a partial label set) and written in their declared order;
 * names are checked, and a second metric of one name refused, with the messages callers see;
 * histogram buckets are written with `le` last (`{mode="htlc",le="5"}`, as Prometheus' own Go
 * client and dashboards write them; prom-client puts it first).
 */
import {
  collectDefaultMetrics,
  Counter as PromCounter,
  Gauge as PromGauge,
  Histogram as PromHistogram,
  Registry,
  validateMetricName,
} from 'prom-client';

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

export interface Gauge {
  set(labels: Labels, value: number): void;
  inc(labels?: Labels, by?: number): void;
  dec(labels?: Labels, by?: number): void;
}

export interface Histogram {
  observe(labels: Labels, value: number): void;
}

/** Creates metrics and renders them all. Names must be unique. */
export interface MetricsRegistry {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  histogram(name: string, help: string, buckets: readonly number[], labelNames?: readonly string[]): Histogram;
  /** Runs `collect` at every render, before the text is made (for values read on demand). */
  onCollect(collect: () => void): void;
  /** Prometheus text format, ending with a newline (prom-client collects asynchronously). */
  render(): Promise<string>;
}

export interface MetricsRegistryOptions {
  /** Adds prom-client's default process and Node.js metrics (`process_*`, `nodejs_*`); default false. */
  readonly processMetrics?: boolean;
}

/** A label name (prom-client checks the same, but exports only its metric-name check). */
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The labels in declared order; throws on a missing or undeclared label. */
function orderedLabels(labelNames: readonly string[], labels: Labels): Record<string, string> {
  const extra = Object.keys(labels).filter((n) => !labelNames.includes(n));
  if (extra.length) throw new Error(`undeclared metric labels: ${extra.join(', ')}`);
  const out: Record<string, string> = {};
  for (const n of labelNames) {
    const v = labels[n];
    if (v === undefined) throw new Error(`metric label '${n}' missing`);
    out[n] = v;
  }
  return out;
}

/** A bucket line with `le` first, as prom-client writes it: name, `le`, the other labels, value. */
const LE_FIRST = /^([a-zA-Z_:][a-zA-Z0-9_:]*_bucket)\{(le="[^"]*"),(.*)\}( \S+)$/gm;

/** Creates an empty registry (with the process metrics only if asked). */
export function createMetricsRegistry(opts: Readonly<MetricsRegistryOptions> = {}): MetricsRegistry {
  const prom = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: prom });
  const collectors: (() => void)[] = [];
  const check = (name: string, labelNames: readonly string[], histogram: boolean): string[] => {
    if (!validateMetricName(name)) throw new Error(`invalid metric name '${name}'`);
    const bad = labelNames.find((l) => !LABEL.test(l) || (histogram && l === 'le'));
    if (bad !== undefined) throw new Error(`invalid label name '${bad}' for ${name}`);
    if (prom.getSingleMetric(name)) throw new Error(`metric '${name}' registered twice`);
    return [...labelNames];
  };
  return {
    counter(name, help, labelNames = []) {
      const c = new PromCounter({ name, help, labelNames: check(name, labelNames, false), registers: [prom] });
      return {
        inc: (labels = {}, by = 1) => {
          if (by < 0) throw new Error(`counter ${name} cannot decrease`);
          c.inc(orderedLabels(labelNames, labels), by);
        },
      };
    },
    gauge(name, help, labelNames = []) {
      const g = new PromGauge({ name, help, labelNames: check(name, labelNames, false), registers: [prom] });
      return {
        set: (labels, value) => g.set(orderedLabels(labelNames, labels), value),
        inc: (labels = {}, by = 1) => g.inc(orderedLabels(labelNames, labels), by),
        dec: (labels = {}, by = 1) => g.dec(orderedLabels(labelNames, labels), by),
      };
    },
    histogram(name, help, buckets, labelNames = []) {
      const h = new PromHistogram({
        name,
        help,
        labelNames: check(name, labelNames, true),
        buckets: [...buckets].sort((a, b) => a - b),
        registers: [prom],
      });
      return { observe: (labels, value) => h.observe(orderedLabels(labelNames, labels), value) };
    },
    onCollect(collect) {
      collectors.push(collect);
    },
    async render() {
      for (const collect of collectors) collect();
      return (await prom.metrics()).replace(LE_FIRST, '$1{$3,$2}$4');
    },
  };
}

/** The gateway's metrics. The engine updates the trade and ledger ones. */
export interface GatewayMetrics {
  readonly registry: MetricsRegistry;
  /** Current number of trades per status (`status` label). */
  readonly tradesByStatus: Gauge;
  /** Seconds from instruction to settled/failed (`mode` label). */
  readonly settlementLatency: Histogram;
  /** Failed ledger calls (`ledger` = fabric|evm, `operation`). */
  readonly ledgerCallErrors: Counter;
  /** HTTP answers (`route`, `method`, `status`). */
  readonly httpRequests: Counter;
  /** HTTP handling time in seconds (`route`, `method`). */
  readonly httpDuration: Histogram;
}

/** Settlement takes seconds to hours: buckets from 1 s to 1 day. */
export const SETTLEMENT_LATENCY_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 3600, 14_400, 86_400] as const;
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

/**
 * Registers the gateway's metrics in `registry`; by default a fresh one of its own that also has
 * the process metrics.
 */
export function createGatewayMetrics(
  registry: MetricsRegistry = createMetricsRegistry({ processMetrics: true }),
): GatewayMetrics {
  return {
    registry,
    tradesByStatus: registry.gauge('dvp_trades', 'Trades by current status', ['status']),
    settlementLatency: registry.histogram(
      'dvp_settlement_latency_seconds',
      'Time from instruction to final status',
      SETTLEMENT_LATENCY_BUCKETS,
      ['mode'],
    ),
    ledgerCallErrors: registry.counter('dvp_ledger_call_errors_total', 'Failed ledger calls', ['ledger', 'operation']),
    httpRequests: registry.counter('dvp_http_requests_total', 'HTTP requests answered', ['route', 'method', 'status']),
    httpDuration: registry.histogram('dvp_http_request_duration_seconds', 'HTTP handling time', HTTP_BUCKETS, [
      'route',
      'method',
    ]),
  };
}
