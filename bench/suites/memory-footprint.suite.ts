import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FootprintResult, FootprintSpec } from '../footprint/footprint-spec';
import type { BenchOptions, BenchRow, BenchSuite, GoalCheck } from '../suite';

const run = promisify(execFile);

async function measureIn(spec: FootprintSpec): Promise<FootprintResult> {
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', join(__dirname, '..', 'footprint', 'child.js'), JSON.stringify(spec)],
    {
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as FootprintResult;
}

function specs(keys: number): { case: string; spec: FootprintSpec }[] {
  const n = keys.toLocaleString('en-US');
  const cap = Math.round(keys / 10);
  // The cap is proven with 3x its size in distinct keys: eviction is the slow path, and the
  // point (tracked keys and heap stay at the cap) shows as well as with 10x.
  const flood = cap * 3;
  return [
    { case: `${n} keys`, spec: { contender: 'rate-sync token bucket', keys } },
    { case: `${n} keys`, spec: { contender: 'rate-sync sliding window', keys, entriesPerKey: 1 } },
    { case: `${n} keys`, spec: { contender: 'rate-sync sliding window', keys, entriesPerKey: 5 } },
    { case: `${n} keys`, spec: { contender: 'rate-limiter-flexible RateLimiterMemory', keys } },
    { case: `${n} keys`, spec: { contender: '@nestjs/throttler ThrottlerStorageService', keys } },
    {
      case: `${flood.toLocaleString('en-US')} keys, maxKeys = ${cap.toLocaleString('en-US')}`,
      spec: { contender: 'rate-sync token bucket', keys: flood, maxKeys: cap },
    },
  ];
}

function contenderLabel(spec: FootprintSpec): string {
  if (spec.contender === 'rate-sync sliding window')
    return `${spec.contender} (limit 5, ${spec.entriesPerKey} entr${spec.entriesPerKey === 1 ? 'y' : 'ies'}/key)`;
  return spec.contender;
}

/**
 * Heap per tracked key, each contender alone in a fresh `node --expose-gc` process. One round:
 * the heap after full collections does not vary between runs the way throughput does. The
 * ops/s column is the rate of first-touch acquisitions (each on a new key), one in flight.
 */
export const memoryFootprintSuite: BenchSuite = {
  name: 'memory-footprint',
  description:
    'Heap bytes per tracked key after touching N distinct keys (full GC before and after, in a fresh process each). ' +
    'Token bucket: one admission per key. Sliding window (limit 5): 1 entry per key, and a full log of 5. ' +
    'Peers with the same keys, limit 5. Last row: the memory engine capped by maxKeys, flooded with 3x as many keys ' +
    '(its ops/s is the rate of acquisitions that each evict the oldest key).',
  compareBy: { extra: 'bytes/key', lowerIsBetter: true },
  async run(options: BenchOptions): Promise<BenchRow[]> {
    const keys = options.smoke ? 10_000 : 1_000_000;
    const rows: BenchRow[] = [];
    for (const { case: c, spec } of specs(keys)) {
      const r = await measureIn(spec);
      const extra: Record<string, number | string> = {
        'bytes/key': Math.round(r.bytesPerKey),
        'heap MB': Math.round(r.heapBytes / 1e5) / 10,
        'tracked keys': r.trackedKeys,
      };
      if (r.oldestLimited !== undefined)
        extra['oldest still limited, newest refused'] =
          r.oldestLimited && r.newestRefused ? 'yes' : 'NO';
      options.progress?.(
        `${this.name} · ${c} · ${contenderLabel(spec)}: ${Math.round(r.bytesPerKey)} B/key, ${r.trackedKeys} keys tracked`,
      );
      rows.push({
        suite: this.name,
        case: c,
        contender: contenderLabel(spec),
        concurrency: 1,
        opsPerSec: r.opsPerSec,
        p50Ms: 0,
        p99Ms: 0,
        errors: 0,
        extra,
      });
    }
    return rows;
  },
  goals(rows: readonly BenchRow[]): GoalCheck[] {
    const capped = rows.find((r) => r.case.includes('maxKeys'));
    const uncapped = rows.find(
      (r) => !r.case.includes('maxKeys') && r.contender === 'rate-sync token bucket',
    );
    if (!capped || !uncapped)
      return [{ goal: 'maxKeys caps the memory engine', met: false, detail: 'not measured' }];
    const cap = Number(/maxKeys = ([\d,]+)/.exec(capped.case)?.[1].replace(/,/g, ''));
    const tracked = Number(capped.extra?.['tracked keys']);
    const heapRatio = Number(capped.extra?.['heap MB']) / Number(uncapped.extra?.['heap MB']);
    return [
      {
        goal: 'maxKeys caps the memory engine (tracked keys <= maxKeys, heap shrinks in proportion, no key that restricts is forgotten)',
        met:
          tracked <= cap &&
          capped.extra?.['oldest still limited, newest refused'] === 'yes' &&
          heapRatio < 0.2,
        detail: `${tracked.toLocaleString('en-US')} keys tracked for maxKeys ${cap.toLocaleString('en-US')}; heap ${capped.extra?.['heap MB']} MB vs ${uncapped.extra?.['heap MB']} MB uncapped`,
      },
    ];
  },
};
