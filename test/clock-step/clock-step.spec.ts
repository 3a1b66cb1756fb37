import { STEP_MS, unstepSystemClock } from './step-system-clock';
import request from 'supertest';
import { systemClock } from '../../lib/core';
import { RateSyncModule } from '../../lib/nest';
import { answersContract } from '../contract/answers-contract';
import { describePg, dropSchema, PG_URL, uniqueName } from '../support/postgres';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { ADAPTERS, createApp, type TestApp } from '../e2e/support/create-app';
import { oneAMinute, PingController } from '../e2e/support/ping-app';

/**
 * The system clock was stepped after this process started: every answer stays true. Delays are
 * measured on the store's clock, and `X-RateLimit-Reset` is on the clock of the `Date` header.
 */
afterAll(unstepSystemClock);

it('this process runs with its real clock behind the wall clock by the step', () => {
  const behind = Date.now() - systemClock.now();
  expect(behind).toBeGreaterThanOrEqual(STEP_MS - 2);
  expect(behind).toBeLessThanOrEqual(STEP_MS + 2);
});

describe.each(ADAPTERS)('X-RateLimit-Reset after a step of the system clock (%s)', (adapter) => {
  let t: TestApp;
  afterEach(() => t.close());

  it('is the epoch second of the reset on the wall clock, as the Date header', async () => {
    t = await createApp(adapter, {
      imports: [RateSyncModule.forRoot(oneAMinute())],
      controllers: [PingController],
    });
    const before = Date.now();
    const res = await request(t.url).get('/ping').expect(200);
    const after = Date.now();
    const reset = Number(res.headers['x-ratelimit-reset']);
    // The admission's window ends 60 s after it, rounded up to the second.
    expect(reset).toBeGreaterThanOrEqual(Math.ceil((before + 60_000) / 1000));
    expect(reset).toBeLessThanOrEqual(Math.ceil((after + 60_000) / 1000));
  });
});

describeRedis('answers on a Redis store after a step of the system clock', () => {
  answersContract({
    name: 'redis',
    store: () => ({ engine: 'redis', url: redisUrl(), keyPrefix: uniquePrefix('clockstep') }),
  });
});

describePg('answers on a PostgreSQL store after a step of the system clock', () => {
  const schema = uniqueName('rs_clockstep');
  let n = 0;
  answersContract({
    name: 'postgres',
    store: () => ({ engine: 'postgres', url: PG_URL, schemaName: schema, tableName: `t${n++}` }),
  });
  afterAll(() => dropSchema(schema));
});
