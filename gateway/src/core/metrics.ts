/**
 * A small Prometheus registry (text exposition format 0.0.4), written by hand: counters, gauges
 * and histograms with labels. The gateway registers its own metrics in {@link createGatewayMetrics};
 * the engine increments them through the same handles.
 */

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
  /** Prometheus text format, ending with a newline. */
  render(): string;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Serialises labels in the declared order; throws on a missing or undeclared label. */
function labelKey(labelNames: readonly string[], labels: Labels): string {
  const extra = Object.keys(labels).filter((n) => !labelNames.includes(n));
  if (extra.length) throw new Error(`undeclared metric labels: ${extra.join(', ')}`);
  return labelNames
    .map((n) => {
      const v = labels[n];
      if (v === undefined) throw new Error(`metric label '${n}' missing`);
      return `${n}="${escapeLabel(v)}"`;
    })
    .join(',');
}

const braces = (key: string): string => (key ? `{${key}}` : '');

interface Family {
  readonly header: string;
  lines(): string[];
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}`;
}

function scalar(name: string, help: string, type: 'counter' | 'gauge', labelNames: readonly string[]) {
  const values = new Map<string, number>();
  const add = (labels: Labels, by: number): void => {
    const key = labelKey(labelNames, labels);
    values.set(key, (values.get(key) ?? 0) + by);
  };
  const family: Family = {
    header: header(name, help, type),
    lines: () => [...values].map(([k, v]) => `${name}${braces(k)} ${formatNumber(v)}`),
  };
  const set = (labels: Labels, value: number): void => void values.set(labelKey(labelNames, labels), value);
  return { family, add, set };
}

function histogramFamily(name: string, help: string, buckets: readonly number[], labelNames: readonly string[]) {
  const bounds = [...buckets].sort((a, b) => a - b);
  const series = new Map<string, { counts: number[]; sum: number; count: number }>();
  const observe = (labels: Labels, value: number): void => {
    const key = labelKey(labelNames, labels);
    const s = series.get(key) ?? { counts: bounds.map(() => 0), sum: 0, count: 0 };
    bounds.forEach((b, i) => {
      if (value <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += value;
    s.count += 1;
    series.set(key, s);
  };
  const lines = (): string[] =>
    [...series].flatMap(([key, s]) => {
      const sep = key ? ',' : '';
      return [
        ...bounds.map((b, i) => `${name}_bucket{${key}${sep}le="${formatNumber(b)}"} ${s.counts[i] ?? 0}`),
        `${name}_bucket{${key}${sep}le="+Inf"} ${s.count}`,
        `${name}_sum${braces(key)} ${formatNumber(s.sum)}`,
        `${name}_count${braces(key)} ${s.count}`,
      ];
    });
  return { family: { header: header(name, help, 'histogram'), lines } as Family, observe };
}

/** Creates an empty registry. */
export function createMetricsRegistry(): MetricsRegistry {
  const families = new Map<string, Family>();
  const collectors: (() => void)[] = [];
  const register = (name: string, labelNames: readonly string[], family: Family): void => {
    if (!NAME.test(name)) throw new Error(`invalid metric name '${name}'`);
    const bad = labelNames.find((l) => !LABEL.test(l) || l === 'le');
    if (bad !== undefined) throw new Error(`invalid label name '${bad}' for ${name}`);
    if (families.has(name)) throw new Error(`metric '${name}' registered twice`);
    families.set(name, family);
  };
  return {
    counter(name, help, labelNames = []) {
      const m = scalar(name, help, 'counter', labelNames);
      register(name, labelNames, m.family);
      return {
        inc: (labels = {}, by = 1) => {
          if (by < 0) throw new Error(`counter ${name} cannot decrease`);
          m.add(labels, by);
        },
      };
    },
    gauge(name, help, labelNames = []) {
      const m = scalar(name, help, 'gauge', labelNames);
      register(name, labelNames, m.family);
      return {
        set: m.set,
        inc: (labels = {}, by = 1) => m.add(labels, by),
        dec: (labels = {}, by = 1) => m.add(labels, -by),
      };
    },
    histogram(name, help, buckets, labelNames = []) {
      const m = histogramFamily(name, help, buckets, labelNames);
      register(name, labelNames, m.family);
      return { observe: m.observe };
    },
    onCollect(collect) {
      collectors.push(collect);
    },
    render() {
      for (const collect of collectors) collect();
      return [...families.values()].map((f) => [f.header, ...f.lines()].join('\n')).join('\n') + '\n';
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

/** Registers the gateway's metrics in `registry` (a fresh one by default). */
export function createGatewayMetrics(registry: MetricsRegistry = createMetricsRegistry()): GatewayMetrics {
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
