/**
 * Heap bytes per tracked key, measured alone in a fresh process started with --expose-gc:
 * `node --expose-gc child.js '<FootprintSpec as JSON>'`. The heap is measured after full
 * collections before and after touching N distinct keys `u<i>`; the identifiers themselves are
 * made on the fly and not retained, so what remains is the store's state (keys included).
 */
// Each contender's package is required only in its own process (see subject()), so a child
// starts fast and holds nothing but what it measures.
import type { ThrottlerStorageService } from '@nestjs/throttler';
import type { RateLimiterMemory } from 'rate-limiter-flexible';
import type { RateSync } from '../../lib/core';
import { silentLogger } from '../lib/silent-logger';
import type { FootprintResult, FootprintSpec } from './footprint-spec';

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

interface Subject {
  touch(i: number): Promise<unknown>;
  tracked(): number;
  /** The `remaining` of key i, when the subject can tell. */
  remaining?(i: number): Promise<number>;
  close(): Promise<void>;
}

function subject(spec: FootprintSpec): Subject {
  switch (spec.contender) {
    case 'rate-sync token bucket':
    case 'rate-sync sliding window': {
      const window = spec.contender === 'rate-sync sliding window';
      const { RateSync: RateSyncClass } = require('../../lib/core') as {
        RateSync: typeof RateSync;
      };
      const rs = new RateSyncClass(
        {
          stores: { mem: { engine: 'memory', maxKeys: spec.maxKeys } },
          limiters: {
            b: window
              ? { store: 'mem', algorithm: 'sliding_window', limit: 5, windowSeconds: 3600 }
              : { store: 'mem', ratePerSecond: 1 / 3600, burst: 1 },
          },
        },
        { logger: silentLogger },
      );
      // The engine's key count is not public API; read it for the report only.
      const engine = (
        rs as unknown as { stores: Map<string, { engine: { size: number } }> }
      ).stores.get('mem')!.engine;
      // One admission is one (weighted) entry: a log of n entries takes n admissions.
      const entries = window ? (spec.entriesPerKey ?? 1) : 1;
      return {
        touch: async (i) => {
          for (let n = 0; n < entries; n++) await rs.tryAcquire('b', { key: `u${i}` });
        },
        tracked: () => engine.size,
        remaining: async (i) => (await rs.state('b', `u${i}`)).remaining,
        close: () => rs.close(),
      };
    }
    case 'rate-limiter-flexible RateLimiterMemory': {
      const { RateLimiterMemory: Flexible } = require('rate-limiter-flexible') as {
        RateLimiterMemory: typeof RateLimiterMemory;
      };
      const rl = new Flexible({ points: 5, duration: 3600 });
      const storage = (rl as unknown as { _memoryStorage: { _storage: Map<string, unknown> } })
        ._memoryStorage._storage;
      return {
        touch: (i) => rl.consume(`u${i}`).catch(() => undefined),
        tracked: () => storage.size,
        close: async () => undefined, // its timers are unref()ed: they do not hold the process
      };
    }
    case '@nestjs/throttler ThrottlerStorageService': {
      const { ThrottlerStorageService: Storage } = require('@nestjs/throttler') as {
        ThrottlerStorageService: typeof ThrottlerStorageService;
      };
      const storage = new Storage();
      return {
        touch: (i) => storage.increment(`u${i}`, 3_600_000, 5, 3_600_000, 'default'),
        tracked: () => storage.storage.size,
        close: async () => storage.onApplicationShutdown(),
      };
    }
  }
}

async function main(): Promise<void> {
  if (!gc) throw new Error('run with --expose-gc');
  const spec = JSON.parse(process.argv[2]) as FootprintSpec;
  const s = subject(spec);
  await s.touch(0); // first call: lazy module state; key 0 is touched again (rejected) below
  const before = heap();
  const t0 = performance.now();
  for (let i = 0; i < spec.keys; i++) await s.touch(i);
  const seconds = (performance.now() - t0) / 1000;
  const heapBytes = heap() - before;
  const result: FootprintResult = {
    heapBytes,
    bytesPerKey: heapBytes / s.tracked(),
    opsPerSec: spec.keys / seconds,
    trackedKeys: s.tracked(),
    oldestLimited: spec.maxKeys && s.remaining ? (await s.remaining(0)) === 0 : undefined,
    newestRefused: spec.maxKeys && s.remaining ? (await s.remaining(spec.keys - 1)) > 0 : undefined,
  };
  await s.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
