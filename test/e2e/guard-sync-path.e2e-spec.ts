import { HttpAdapterHost } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { RateSync } from '../../lib/core';
import { RateLimitRegistry } from '../../lib/nest/limits/rate-limit.registry';
import { RATE_SYNC_SETTINGS } from '../../lib/nest/rate-sync.constants';
import {
  LimiterService,
  RateLimitExceededException,
  RateLimitGuard,
  RateSyncModule,
} from '../../lib/nest';
import { createApp, type TestApp } from './support/create-app';
import { oneAMinute, PingController } from './support/ping-app';

/**
 * A decision taken in process answers the guard at once: `canActivate` returns `true` (or
 * throws the 429) without a promise, sparing every request the microtask hops of an async
 * guard. Over HTTP the behaviour is the same either way (the other e2e suites).
 */
describe('RateLimitGuard on the memory engine', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createApp('express', {
      imports: [RateSyncModule.forRoot(oneAMinute())],
      controllers: [PingController],
    });
  });
  afterEach(() => t.close());

  it('answers without a promise: true, then the 429 thrown, with the headers set', () => {
    const guard = new RateLimitGuard(
      t.app.get(RateLimitRegistry),
      t.app.get(RateSync),
      t.app.get(RATE_SYNC_SETTINGS),
      t.app.get(HttpAdapterHost),
    );
    const headers: Record<string, string> = {};
    const request = { ip: '203.0.113.9', headers: {}, socket: { remoteAddress: '203.0.113.9' } };
    const response = { set: (name: string, value: string) => (headers[name] = value) };
    const ctx = new ExecutionContextHost(
      [request, response, undefined],
      PingController,
      PingController.prototype.ping,
    );
    ctx.setType('http');
    expect(guard.canActivate(ctx)).toBe(true);
    expect(headers['X-RateLimit-Remaining']).toBe('0');
    expect(() => guard.canActivate(ctx)).toThrow(RateLimitExceededException);
    expect(t.app.get(LimiterService).metrics('one')).toMatchObject({ allowed: 1, rejected: 1 });
  });
});
