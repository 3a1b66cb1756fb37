import type { ValidatedConfig } from '../core/config';
import { describeStore } from '../core/config/describe-store';

/** The stores and limiters of a configuration, secrets redacted: as data and as text tables. */
export function configTables(config: ValidatedConfig): { data: object; text: string } {
  const stores = Object.entries(config.stores).map(([id, o]) => ({ id, ...describeStore(o) }));
  const limiters = Object.entries(config.limiters).map(([id, o]) => ({ id, ...o }));
  const storeRows = stores.map((s) => [s.id, s.engine, s.url ?? '']);
  const limiterRows = limiters.map((l) => [
    l.id,
    l.store,
    l.maxConcurrent !== undefined && !l.ratePerSecond && !l.limit
      ? 'concurrency'
      : (l.algorithm ?? 'token_bucket'),
    policyText(l),
    l.enforce === false ? 'shadow' : 'enforce',
  ]);
  const text = [
    `configuration is valid: ${stores.length} store(s), ${limiters.length} limiter(s)`,
    '',
    table(['store', 'engine', 'url'], storeRows),
    '',
    table(['limiter', 'store', 'algorithm', 'policy', 'mode'], limiterRows),
  ].join('\n');
  return { data: { stores, limiters }, text };
}

function policyText(l: ValidatedConfig['limiters'][string]): string {
  const parts: string[] = [];
  if (l.ratePerSecond !== undefined) parts.push(`${l.ratePerSecond}/s burst ${l.burst ?? 1}`);
  if (l.limit !== undefined) parts.push(`${l.limit} per ${l.windowSeconds} s`);
  if (l.maxConcurrent !== undefined) parts.push(`${l.maxConcurrent} at once`);
  const policy = l.onStoreFailure ?? (l.failClosed ? 'closed' : 'open');
  if (policy !== 'open') parts.push(`on_store_failure ${policy}`);
  return parts.join(', ');
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
