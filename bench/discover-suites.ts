import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchSuite } from './suite';

/** Suites in this order first; any other found in suites/ follows, by name. */
const ORDER = ['core-memory', 'http', 'memory-footprint', 'redis', 'postgres', 'concurrency'];

function isSuite(value: unknown): value is BenchSuite {
  const v = value as Partial<BenchSuite> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.run === 'function'
  );
}

/**
 * Loads every `suites/*.suite.js` next to this file and collects what each exports that is a
 * {@link BenchSuite}: an object, or a class with a no-argument constructor.
 */
export function discoverSuites(dir = join(__dirname, 'suites')): BenchSuite[] {
  const found = new Map<string, BenchSuite>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.suite.js'))
    .sort()) {
    const mod = require(join(dir, file)) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      let candidate: unknown = value;
      if (
        typeof value === 'function' &&
        typeof (value as { prototype?: { run?: unknown } }).prototype?.run === 'function'
      ) {
        candidate = new (value as new () => unknown)();
      }
      if (isSuite(candidate) && !found.has(candidate.name)) found.set(candidate.name, candidate);
    }
  }
  const rank = (name: string): number => {
    const i = ORDER.indexOf(name);
    return i === -1 ? ORDER.length : i;
  };
  return [...found.values()].sort(
    (a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name),
  );
}
