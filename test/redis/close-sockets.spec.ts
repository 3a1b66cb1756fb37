/**
 * close() resolves once the engine's sockets are closed, not merely once Redis answered QUIT:
 * a process that checks its handles right after close() (a test runner's open-handle check,
 * the soak) finds none of the engine's.
 */
import { toPolicy } from '../../lib/core/policy';
import { describeRedis } from '../support/redis';
import { dropPrefix, openEngine, req } from './engine-fixture';

/** The live sockets of this process (Node's handle list: other files' may come and go). */
const sockets = (): Set<unknown> =>
  new Set(
    (process as unknown as { _getActiveHandles(): object[] })
      ._getActiveHandles()
      .filter((h) => h.constructor.name === 'Socket'),
  );

describeRedis('RedisEngine.close()', () => {
  it('resolves after the client and the release subscriber have closed their sockets', async () => {
    const before = sockets();
    const { engine, prefix } = await openEngine();
    const cc = toPolicy('cc', { store: 's', maxConcurrent: 1 });
    await engine.acquire([req(cc, 'cc', { leaseId: 'a' })]);
    // A listener opens the subscriber connection too.
    const stop = engine.onRelease(cc, 'cc', () => undefined);
    await engine.release(cc, 'cc', 'a');
    await new Promise((r) => setTimeout(r, 50));
    const mine = [...sockets()].filter((s) => !before.has(s));
    expect(mine).toHaveLength(2); // the client and the subscriber
    stop();
    await engine.close();
    const live = sockets();
    expect(mine.filter((s) => live.has(s)).length).toBe(0);
    await dropPrefix(prefix);
  });
});
