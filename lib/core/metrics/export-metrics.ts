import type * as OtelApi from '@opentelemetry/api';
import type * as PromClient from 'prom-client';
import { InvalidArgumentError } from '../errors';
import type { RateSync } from '../rate-sync';
import { exportToOpenTelemetry } from './open-telemetry-exporter';
import { requireOptional } from './optional-package';
import { exportToPrometheus } from './prometheus-exporter';

/**
 * Where decisions are exported, besides the built-in counters (`metrics()`, `prometheus()`).
 * Each exporter takes `true` (on; the package must be installed), `false` (off), or an object
 * naming where to register. Unset: on when its package is installed, off otherwise.
 */
export interface MetricsExportOptions {
  /**
   * Through `prom-client`: `{ registry }` registers into that `Registry` (default: prom-client's
   * default registry, the one `register.metrics()` renders).
   */
  prometheus?: boolean | { registry?: object };
  /**
   * Through the OpenTelemetry metrics API (`@opentelemetry/api`): `{ meter }` creates the
   * instruments on that `Meter` (default: the global meter provider's meter
   * `@rate-sync/nestjs`), so any exporter configured in the OpenTelemetry SDK receives them.
   */
  openTelemetry?: boolean | { meter?: object };
}

/**
 * Attaches the configured exporters to `rateSync`; returns the function that detaches them
 * all (and removes the `prom-client` metrics from their registry).
 *
 * @throws InvalidArgumentError naming `metrics.prometheus` or `metrics.openTelemetry` for a
 *   bad value, or when `true` is given and the package is not installed
 */
export function exportMetrics(rateSync: RateSync, options: MetricsExportOptions = {}): () => void {
  const detach: (() => void)[] = [];
  const prom = load<typeof PromClient>('prometheus', 'prom-client', options.prometheus);
  if (prom) {
    const registry = objectField(options.prometheus, 'registry') as PromClient.Registry;
    detach.push(exportToPrometheus(prom, rateSync, registry));
  }
  const otel = load<typeof OtelApi>('openTelemetry', '@opentelemetry/api', options.openTelemetry);
  if (otel) {
    const meter = objectField(options.openTelemetry, 'meter') as OtelApi.Meter | undefined;
    detach.push(exportToOpenTelemetry(otel, rateSync, meter));
  }
  return () => detach.forEach((d) => d());
}

function load<T>(option: string, pkg: string, value: unknown): T | undefined {
  if (value === false) return undefined;
  if (value !== undefined && value !== true && (typeof value !== 'object' || value === null)) {
    throw new InvalidArgumentError(
      `metrics.${option}`,
      `expected true, false or an options object, got ${JSON.stringify(value)}`,
    );
  }
  const mod = requireOptional<T>(pkg);
  if (!mod && value !== undefined) {
    throw new InvalidArgumentError(
      `metrics.${option}`,
      `needs the '${pkg}' package, which is not installed; run: npm install ${pkg} (or set it to false)`,
    );
  }
  return mod;
}

function objectField(value: unknown, field: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[field]
    : undefined;
}
