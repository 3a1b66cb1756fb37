import { RateSync, StoreUnavailableError, type StoreOptions } from '../../lib/core';
import { captureLogger, describePg, dropSchema, PG_URL, uniqueName } from '../support/postgres';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';

/**
 * close() is final on shared engines: connect() after it does not reopen clients or pools, and
 * a decision made after it (a request still in flight while the application shuts down) follows
 * the limiter's failure policy at once, never hangs and never reopens a connection.
 */
function afterClose(store: () => StoreOptions, cleanup?: () => Promise<void>) {
  it('connect() after close() does not reopen; decisions follow the failure policy', async () => {
    const logger = captureLogger();
    const rs = new RateSync(
      {
        stores: { s: store() },
        limiters: {
          open: { store: 's', ratePerSecond: 1 },
          shut: { store: 's', ratePerSecond: 1, failClosed: true },
        },
      },
      { logger },
    );
    await rs.connect();
    expect((await rs.tryAcquire('open'))?.result.failedOpen).toBeUndefined();
    await rs.close();

    await expect(rs.connect()).rejects.toThrow(
      /Store 's' is unavailable \(limiter 'shut' is fail_closed\).*does not reopen/,
    );
    const open = await rs.tryAcquire('open');
    expect(open?.result).toMatchObject({ allowed: true, failedOpen: true });
    await expect(rs.tryAcquire('shut')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(logger.messages.some((m) => m.startsWith('warn:') && m.includes("'open'"))).toBe(true);
    await rs.close(); // still idempotent
    await cleanup?.();
  });
}

describeRedis('a closed RateSync on Redis', () => {
  afterClose(() => ({ engine: 'redis', url: redisUrl(), keyPrefix: uniquePrefix('closed') }));
});

describePg('a closed RateSync on PostgreSQL', () => {
  const schema = uniqueName('rs_closed');
  afterClose(
    () => ({ engine: 'postgres', url: PG_URL, schemaName: schema }),
    () => dropSchema(schema),
  );
});
