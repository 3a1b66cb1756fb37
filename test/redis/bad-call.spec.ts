import { expectBadCallAlone } from '../support/bad-call';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { dropPrefix } from './engine-fixture';

describeRedis('redis: a call the store refuses for its data', () => {
  const prefix = uniquePrefix('badcall');
  afterAll(() => dropPrefix(prefix));

  it('a rate whose key expiry Redis cannot hold (PEXPIRE) fails alone; login stays exact', async () => {
    await expectBadCallAlone(
      { engine: 'redis', url: redisUrl(), keyPrefix: prefix },
      { ratePerSecond: 1e-300 },
    );
  });
});
