import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describeIfPresent } from './needs-server';

/** The Redis the suites use: `REDIS_URL`, else the local default. */
export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A key prefix no other test shares. */
export function uniquePrefix(label = 't'): string {
  return `rs_test_${label}_${randomBytes(4).toString('hex')}`;
}

let cached: boolean | undefined;

/**
 * Whether Redis answers PING (checked once, synchronously, so that suites can choose
 * `describe` or `describe.skip` at load time).
 */
export function redisAvailable(): boolean {
  if (cached !== undefined) return cached;
  const probe = `
    const Redis = require('ioredis');
    const c = new Redis(process.argv[1], { lazyConnect: true, connectTimeout: 1000, retryStrategy: null, maxRetriesPerRequest: 0 });
    c.on('error', () => {});
    c.connect().then(() => c.ping()).then(() => { c.disconnect(); process.exit(0); }, () => process.exit(1));`;
  const r = spawnSync(process.execPath, ['-e', probe, redisUrl()], {
    timeout: 5000,
    cwd: __dirname,
  });
  cached = r.status === 0;
  return cached;
}

/** `describe` when Redis is reachable; see {@link describeIfPresent} for when it is not. */
export function describeRedis(name: string, fn: () => void): void {
  const where = redisUrl().replace(/\/\/[^@/]*@/, '//***@');
  describeIfPresent(
    name,
    fn,
    redisAvailable() ? undefined : `Redis is not reachable at ${where}`,
    'Start it or set REDIS_URL',
  );
}

/**
 * `describe` when `redis-server` and `redis-cli` are installed (suites that start their own
 * servers: faults, cluster); see {@link describeIfPresent} for when they are not.
 */
export function describeRedisBinaries(name: string, fn: () => void): void {
  const ok = ['redis-server', 'redis-cli'].every((b) => spawnSync(b, ['--version']).status === 0);
  describeIfPresent(
    name,
    fn,
    ok ? undefined : 'redis-server / redis-cli are not on the PATH',
    'Install them',
  );
}
