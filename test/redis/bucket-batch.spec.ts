import { ManualClock } from '../../lib/core/clock';
import type { AcquireRequest, LayerDecision } from '../../lib/core/engines/engine';
import { MemoryEngine } from '../../lib/core/engines/memory';
import type { RedisEngine } from '../../lib/core/engines/redis';
import { SPLIT_FROM } from '../../lib/core/engines/redis/bucket-batch';
import { storageKey } from '../../lib/core/keys';
import { toPolicy } from '../../lib/core/policy';
import { prng } from '../support/prng';
import { describeRedis } from '../support/redis';
import { dropPrefix, openEngine } from './engine-fixture';

/**
 * Token-bucket decisions started in the same tick travel as one script call
 * (`bucket-batch.ts`), yet each is decided as if it had been sent alone, in call order: the
 * replies equal the reference model's, decision by decision, down to the last bit.
 */
const bucket = toPolicy('tb', { store: 's', ratePerSecond: 4, burst: 5 });
const slow = toPolicy('slow', { store: 's', ratePerSecond: 0.5, burst: 2 });

describeRedis('RedisEngine batches the token-bucket decisions of one tick', () => {
  let clock: ManualClock;
  let memory: MemoryEngine;
  let redis: RedisEngine;
  let prefix: string;
  let scriptCalls: number[];

  beforeEach(async () => {
    clock = new ManualClock();
    memory = new MemoryEngine({ clock });
    ({ engine: redis, prefix } = await openEngine({}, clock));
    // Counts the keys of every EVALSHA the engine sends: one entry per round trip.
    const client = (redis as unknown as { client: { evalsha: (...a: unknown[]) => unknown } })
      .client;
    const evalsha = client.evalsha.bind(client);
    scriptCalls = [];
    client.evalsha = (...a: unknown[]) => {
      scriptCalls.push(a[1] as number);
      return evalsha(...a);
    };
  });
  afterEach(async () => {
    await Promise.all([memory.close(), redis.close(), dropPrefix(prefix)]);
  });

  /**
   * The requests at once on Redis, one after another on the reference model. A tick goes as one
   * call, or as two from SPLIT_FROM decisions on (run in order on the one connection).
   */
  async function compare(requests: AcquireRequest[]): Promise<LayerDecision[]> {
    const sent = scriptCalls.length;
    const onRedis = await Promise.all(requests.map((r) => redis.acquire([r])));
    expect(scriptCalls.length - sent).toBe(requests.length >= SPLIT_FROM ? 2 : 1);
    const reference: LayerDecision[][] = [];
    for (const r of requests) reference.push(await memory.acquire([r]));
    expect(onRedis).toEqual(reference);
    return onRedis.map((d) => d[0]);
  }

  it('decides a hot key flooded in one tick exactly: burst admitted, the rest rejected', async () => {
    const key = storageKey('tb', 'hot');
    const ds = await compare(
      Array.from({ length: 12 }, () => ({ policy: bucket, key, cost: 1, maxWaitMs: 0 })),
    );
    expect(ds.filter((d) => d.allowed)).toHaveLength(5);
    expect(ds.slice(5).every((d) => !d.allowed && d.retryAfterMs > 0)).toBe(true);
    // The state written is the last admission's: after 250 ms exactly one more is admitted.
    clock.advance(250);
    const [again] = await compare([
      { policy: bucket, key, cost: 1, maxWaitMs: 0 },
      { policy: bucket, key, cost: 1, maxWaitMs: 0 },
    ]);
    expect(again.allowed).toBe(true);
  });

  it('mixes keys, policies, costs, waits and dry runs in one tick, as if sent one by one', async () => {
    const rand = prng(7);
    for (let round = 0; round < 8; round++) {
      const requests = Array.from({ length: 40 }, () => {
        const policy = rand() < 0.5 ? bucket : slow;
        return {
          policy,
          key: storageKey(policy.id, ['a', 'b', 'c'][Math.floor(rand() * 3)]),
          cost: 1 + Math.floor(rand() * 2),
          maxWaitMs: [0, 0, 300, 1200.5, Number.POSITIVE_INFINITY][Math.floor(rand() * 5)],
          dryRun: rand() < 0.15,
        };
      });
      await compare(requests);
      clock.advance(Math.floor(rand() * 700));
    }
  });

  it('sends a tick bigger than one call allows as several calls, decided in order', async () => {
    const key = storageKey('tb', 'big');
    const requests = Array.from({ length: 300 }, () => ({
      policy: bucket,
      key,
      cost: 1,
      maxWaitMs: 0,
    }));
    const onRedis = await Promise.all(requests.map((r) => redis.acquire([r])));
    expect(scriptCalls).toEqual([1, 1, 1]); // 3 × 100 decisions (at most 128 a call), one key each
    expect(onRedis.map((d) => d[0].allowed).indexOf(false)).toBe(5);
    expect(onRedis.filter((d) => d[0].allowed)).toHaveLength(5);
  });

  it('fails every decision of a call that fails, each with the store error', async () => {
    const client = (redis as unknown as { client: { disconnect(): void } }).client;
    client.disconnect();
    const key = storageKey('tb', 'down');
    const settled = await Promise.allSettled(
      [1, 2, 3].map(() => redis.acquire([{ policy: bucket, key, cost: 1, maxWaitMs: 0 }])),
    );
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const s of settled) {
      expect((s as PromiseRejectedResult).reason.message).toMatch(
        /Store 'test' \(redis\) acquire failed/,
      );
    }
  });
});
