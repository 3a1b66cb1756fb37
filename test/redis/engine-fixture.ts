import Redis from 'ioredis';
import { RedisEngine } from '../../lib/core/engines/redis';
import { systemClock, type Clock } from '../../lib/core/clock';
import type { AcquireRequest } from '../../lib/core/engines/engine';
import type { LimiterPolicy } from '../../lib/core/policy';
import type { RateSyncLogger } from '../../lib/core/logger';
import type { StoreOptions } from '../../lib/core/options';
import { redisUrl, uniquePrefix } from '../support/redis';

/** A logger that records what it is told (and prints nothing). */
export class MemoLogger implements RateSyncLogger {
  readonly lines: string[] = [];
  log(m: string): void {
    this.lines.push(`log ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
}

/** A connected Redis engine on a fresh key prefix, plus what it logged. */
export async function openEngine(
  options: Partial<StoreOptions> = {},
  testClock?: Clock,
): Promise<{ engine: RedisEngine; logger: MemoLogger; prefix: string }> {
  const logger = new MemoLogger();
  const prefix = options.keyPrefix ?? uniquePrefix();
  const engine = new RedisEngine({
    storeId: 'test',
    options: { engine: 'redis', url: redisUrl(), ...options, keyPrefix: prefix },
    clock: systemClock,
    testClock,
    logger,
  });
  await engine.connect();
  return { engine, logger, prefix };
}

/** Deletes every key under `prefix` (SCAN + UNLINK): for tests whose keys outlive them. */
export async function dropPrefix(prefix: string): Promise<void> {
  const raw = new Redis(redisUrl());
  try {
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await raw.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    raw.disconnect();
  }
}

/** A one-layer request of cost 1 that does not wait, with `extra` on top. */
export const req = (
  policy: LimiterPolicy,
  key: string,
  extra: Partial<AcquireRequest> = {},
): AcquireRequest => ({ policy, key, cost: 1, maxWaitMs: 0, ...extra });
