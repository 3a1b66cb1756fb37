import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import request from 'supertest';
import { RateLimitExceededException, RateLimitGuard, RateSyncModule } from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';
import { oneAMinute, PingController } from './support/ping-app';

/** A guard that writes no `X-RateLimit-*` field itself. */
class NoLegacyFieldsGuard extends RateLimitGuard {
  protected override setHeader(response: unknown, name: string, value: string): void {
    if (!name.startsWith('X-RateLimit-')) super.setHeader(response, name, value);
  }
}

/** Keeps the refusal the guard threw, and answers it with a bare 429. */
@Catch(RateLimitExceededException)
class KeepRefusal implements ExceptionFilter {
  last?: RateLimitExceededException;
  constructor(private readonly http: HttpAdapterHost['httpAdapter']) {}
  catch(exception: RateLimitExceededException, host: ArgumentsHost): void {
    this.last = exception;
    this.http.reply(host.switchToHttp().getResponse(), 'refused', 429);
  }
}

/**
 * The guard's 429: its header fields are computed and written once (by the guard; the filter
 * does not write them again), and its exception carries no stack frames (they were always
 * Nest's router and the guard, and collecting them was most of the refusal's cost).
 */
describe.each(ADAPTERS)('The guard refusal (%s)', (adapter) => {
  let t: TestApp;
  afterEach(() => t?.close());

  let keep: KeepRefusal | undefined;
  const boot = async (
    options: { guard?: typeof RateLimitGuard } = {},
    keepRefusals = false,
  ): Promise<string[]> => {
    const written: string[] = [];
    t = await createApp(
      adapter,
      {
        imports: [RateSyncModule.forRoot(oneAMinute(options))],
        controllers: [PingController],
      },
      (app) => {
        const http = app.get(HttpAdapterHost).httpAdapter;
        keep = keepRefusals ? new KeepRefusal(http) : undefined;
        if (keep) app.useGlobalFilters(keep);
        const setHeader = http.setHeader.bind(http);
        http.setHeader = (response: unknown, name: string, value: string) => {
          written.push(name);
          return setHeader(response, name, value);
        };
      },
    );
    return written;
  };

  it('writes each header field of a 429 once', async () => {
    const written = await boot();
    await request(t.url).get('/ping').expect(200);
    written.length = 0;
    const res = await request(t.url).get('/ping').expect(429);
    expect(written.filter((n) => n === 'Retry-After')).toHaveLength(1);
    expect(written.filter((n) => n === 'X-RateLimit-Remaining')).toHaveLength(1);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.headers['x-ratelimit-remaining']).toBe('0');
    expect(res.body).toMatchObject({ statusCode: 429, limiter: 'one' });
  });

  it('a guard that writes its fields its own way still gets them written by the filter', async () => {
    await boot({ guard: NoLegacyFieldsGuard });
    const ok = await request(t.url).get('/ping').expect(200);
    expect(ok.headers['x-ratelimit-remaining']).toBeUndefined();
    const res = await request(t.url).get('/ping').expect(429);
    expect(res.headers['x-ratelimit-remaining']).toBe('0');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('throws its 429 without stack frames, and leaves Error.stackTraceLimit as it was', async () => {
    await boot({}, true);
    const limit = Error.stackTraceLimit;
    await request(t.url).get('/ping').expect(200);
    await request(t.url).get('/ping').expect(429);
    const refusal = keep!.last!;
    expect(refusal).toBeInstanceOf(RateLimitExceededException);
    expect(refusal.stack).toBe(`RateLimitExceededException: ${refusal.message}`);
    expect(Error.stackTraceLimit).toBe(limit);
  });
});
