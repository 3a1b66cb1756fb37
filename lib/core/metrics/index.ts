export { type LimiterMetrics, MetricsRecorder } from './limiter-metrics';
export { toPrometheus } from './prometheus';
export type { DecisionOutcome, MetricLabels, MetricsObserver } from './metrics-observer';
export type { BreakerState, MetricsGauges } from './metrics-gauges';
export { exportMetrics, type MetricsExportOptions } from './export-metrics';
