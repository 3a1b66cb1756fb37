import { toPolicy } from '../../lib/core/policy';
import { describeRedis } from '../support/redis';
import { dropPrefix, openEngine, req } from './engine-fixture';

/**
 * A duration past Node's timer range (2^31 - 1 ms) given in code (validation rejects it in a
 * configuration) must not overflow into a 1 ms timer: with `socket_timeout` of 30 days every
 * command "timed out".
 */
describeRedis('RedisEngine: timeouts beyond a timer range', () => {
  it('socket_timeout of 30 days: commands are answered, not timed out at once', async () => {
    const { engine, prefix } = await openEngine({ socketTimeout: 30 * 86_400 });
    try {
      const tb = toPolicy('tb', { store: 's', ratePerSecond: 1000, burst: 100 });
      for (let i = 0; i < 20; i++) {
        const [d] = await engine.acquire([req(tb, `k${i}`)]);
        expect(d.allowed).toBe(true);
      }
    } finally {
      await engine.close();
      await dropPrefix(prefix);
    }
  });
});
