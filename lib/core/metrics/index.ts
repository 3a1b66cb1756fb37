export { type LimiterMetrics, MetricsRecorder } from './limiter-metrics';
export { toPrometheus } from './prometheus';
