import Redis from 'ioredis';
import type { RedisEngine } from '../../lib/core/engines/redis';
import { layerKeys, MAX_KEY_OVERHEAD } from '../../lib/core/engines/redis';
import { storageKey } from '../../lib/core/keys';
import { toPolicy } from '../../lib/core/policy';
import { describeRedis, redisUrl } from '../support/redis';
import { openEngine } from './engine-fixture';

/**
 * Identifiers are data from the outside (emails, IPs, headers): colons, braces, spaces,
 * unicode, percent signs that look like escapes, and 10 kB blobs. Different (limiter,
 * identifier) pairs must never share Redis keys, every key must stay within the documented
 * bound, and the hash tag must be exactly the storage key.
 */
const big = 'x'.repeat(10 * 1024);
const IDENTIFIERS = [
  undefined,
  '',
  ' ',
  'a',
  'b',
  'a:b',
  'b:c',
  'a:b:c',
  'a%3Ab',
  'a%253Ab',
  '{a}',
  '}{',
  '{',
  '}',
  'a b',
  'a\tb',
  'a\nb',
  'ü',
  'u\u0308',
  '😀',
  '#',
  '#deadbeef',
  '*',
  '?',
  '[a]',
  '\\',
  'user@example.com',
  '::1',
  '2001:db8::1',
  big,
  `${big}y`,
  '😀'.repeat(3000),
  'y'.repeat(128),
];
/** The last one is as long as a key part gets unhashed: its keys reach the documented bound. */
const LIMITERS = ['api', 'a', 'a:b', 'api:x', '{api}', 'api v2', 'L'.repeat(128)];

describeRedis('redis keys from hostile identifiers', () => {
  let engine: RedisEngine;
  let prefix: string;
  beforeAll(async () => {
    ({ engine, prefix } = await openEngine());
  });
  afterAll(async () => {
    await engine.close();
  });

  const pairs = LIMITERS.flatMap((l) => IDENTIFIERS.map((id) => ({ l, id })));

  it('gives every (limiter, identifier) pair its own bounded keys with the storage key as hash tag', () => {
    const seen = new Map<string, string>();
    for (const { l, id } of pairs) {
      const sk = storageKey(l, id);
      const k = layerKeys(prefix, sk);
      const other = seen.get(k.tat);
      // '' and undefined both mean the limiter's global bucket: the only allowed sharing.
      if (other !== undefined) expect(`${l}|${id ?? ''}`).toBe(other);
      seen.set(k.tat, `${l}|${id ?? ''}`);
      for (const name of [k.tat, k.window, k.leases, k.channel]) {
        expect(name.length).toBeLessThanOrEqual(prefix.length + MAX_KEY_OVERHEAD);
        expect(name.match(/[{}]/g)).toEqual(['{', '}']);
        expect(name.slice(name.indexOf('{') + 1, name.indexOf('}'))).toBe(sk);
      }
    }
    expect(seen.size).toBe(LIMITERS.length * (IDENTIFIERS.length - 1));
  });

  it('admits each pair independently on the server, and writes only bounded keys', async () => {
    const policies = new Map(
      LIMITERS.map((l) => [
        l,
        toPolicy(l, { store: 's', algorithm: 'sliding_window', limit: 1, windowSeconds: 30 }),
      ]),
    );
    const distinct = [...new Map(pairs.map((p) => [storageKey(p.l, p.id), p])).values()];
    const first = await Promise.all(
      distinct.map(({ l, id }) =>
        engine.acquire([
          { policy: policies.get(l)!, key: storageKey(l, id), cost: 1, maxWaitMs: 0 },
        ]),
      ),
    );
    expect(first.every(([d]) => d.allowed)).toBe(true);
    const second = await Promise.all(
      distinct.map(({ l, id }) =>
        engine.acquire([
          { policy: policies.get(l)!, key: storageKey(l, id), cost: 1, maxWaitMs: 0 },
        ]),
      ),
    );
    expect(second.every(([d]) => !d.allowed)).toBe(true);

    const raw = new Redis(redisUrl());
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await raw.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      const longest = Math.max(...keys.map((k) => k.length));
      console.log(
        `hostile keys: ${distinct.length} pairs, ${keys.length} keys, longest ${longest} chars (bound ${prefix.length + MAX_KEY_OVERHEAD})`,
      );
      expect(keys.length).toBe(distinct.length);
      expect(longest).toBe(prefix.length + MAX_KEY_OVERHEAD);
    } finally {
      raw.disconnect();
    }
  });
});
