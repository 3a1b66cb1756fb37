import { RateSync, type StoreOptions } from '../../lib/core';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';

const HOUR = 3_600_000;

/**
 * The application server's clock steps back an hour (an NTP correction, a VM restored): what
 * this process measures locally (cached rejections, the memory engine's buckets) must not
 * stretch by that hour.
 */
async function afterClockStep(store: StoreOptions): Promise<boolean> {
  const rs = new RateSync({
    stores: { s: store },
    limiters: { api: { store: 's', ratePerSecond: 10 } },
  });
  await rs.connect();
  try {
    expect((await rs.check('api', { key: 'u' })).allowed).toBe(true);
    const rejected = await rs.check('api', { key: 'u' });
    expect(rejected.allowed).toBe(false);
    const realNow = Date.now.bind(Date);
    const stepped = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - HOUR);
    try {
      // Real time passes beyond the retry delay (100 ms at 10/s).
      await new Promise((resolve) => setTimeout(resolve, rejected.retryAfterMs + 30));
      return (await rs.check('api', { key: 'u' })).allowed;
    } finally {
      stepped.mockRestore();
    }
  } finally {
    await rs.close();
  }
}

describe('a backward step of the app clock', () => {
  it('does not hold a memory-engine bucket for an hour', async () => {
    expect(await afterClockStep({ engine: 'memory' })).toBe(true);
  });
});

describeRedis('a backward step of the app clock (redis)', () => {
  it('does not keep a cached rejection for an hour', async () => {
    const store: StoreOptions = {
      engine: 'redis',
      url: redisUrl(),
      keyPrefix: uniquePrefix('step'),
    };
    expect(await afterClockStep(store)).toBe(true);
  });
});
