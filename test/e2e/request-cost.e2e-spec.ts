import { Controller, Get, Logger, type ExecutionContext } from '@nestjs/common';
import request from 'supertest';
import { RateLimit, RateSyncModule } from '../../lib';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

type Req = { headers: Record<string, string | undefined> };

/** Units per upload, from the size the client declares (as a naive application would). */
const declaredSize = (ctx: ExecutionContext): number =>
  Number(ctx.switchToHttp().getRequest<Req>().headers['x-size']);

@Controller()
class UploadController {
  @Get('upload')
  @RateLimit('upload', { cost: declaredSize })
  upload(): string {
    return 'ok';
  }

  @Get('broken')
  @RateLimit('upload', {
    key: 'broken',
    cost: () => {
      throw new Error('no size');
    },
  })
  broken(): string {
    return 'ok';
  }
}

const forRoot = () =>
  RateSyncModule.forRoot({
    configFile: false,
    stores: { mem: { engine: 'memory' } },
    limiters: {
      upload: { store: 'mem', algorithm: 'sliding_window', limit: 10, windowSeconds: 60 },
      slots: { store: 'mem', maxConcurrent: 5 },
    },
  });

describe.each(ADAPTERS)('cost from the request (%s)', (adapter) => {
  let t: TestApp;
  let warn: jest.SpyInstance;
  beforeEach(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    t = await createApp(adapter, { imports: [forRoot()], controllers: [UploadController] });
  });
  afterEach(async () => {
    await t.close();
    warn.mockRestore();
  });

  const upload = (size: string) => request(t.url).get('/upload').set('x-size', size);

  it('takes the units each request computes; fractions round up', async () => {
    expect((await upload('4').expect(200)).headers['x-ratelimit-remaining']).toBe('6');
    expect((await upload('2.5').expect(200)).headers['x-ratelimit-remaining']).toBe('3');
    await upload('4').expect(429);
    expect((await upload('3').expect(200)).headers['x-ratelimit-remaining']).toBe('0');
    expect(warn).not.toHaveBeenCalled();
  });

  it('refuses a size that would lift the limit (NaN, 0, negative, Infinity, huge) without counting it', async () => {
    for (const size of ['abc', '0', '-5', '-Infinity', 'Infinity', '11', '1e308', '0.0']) {
      const res = await upload(size);
      expect([size, res.status]).toEqual([size, 429]);
      expect(res.body).toMatchObject({ limiter: 'upload' });
    }
    // Nothing was consumed: the whole capacity is still there.
    expect((await upload('10').expect(200)).headers['x-ratelimit-remaining']).toBe('0');
    const mine = warn.mock.calls.map(([m]) => String(m));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatch(
      /UploadController\.upload: the cost function returned NaN, not a number >= 1; such calls are rejected without counting/,
    );
  });

  it('a cost function that throws answers 429, not 500', async () => {
    const res = await request(t.url).get('/broken').expect(429);
    expect(res.headers['retry-after']).toBeDefined();
    expect(String(warn.mock.calls[0][0])).toMatch(/the cost function threw Error: no size/);
  });
});

describe('cost functions: boot errors', () => {
  it('fails to boot on a cost function over a limit that only admits a cost of 1', async () => {
    @Controller()
    class Slots {
      @Get()
      @RateLimit('slots', { cost: () => 2 })
      handler(): void {}
    }
    await expect(
      createApp('express', { imports: [forRoot()], controllers: [Slots] }),
    ).rejects.toThrow(/slots only count concurrency slots.*in @RateLimit on Slots\.handler/);
  });

  it('rejects a cost that is neither an integer >= 1 nor a function, when decorating', () => {
    expect(() => RateLimit('upload', { cost: 0 })).toThrow(
      /cost: expected an integer >= 1 or a function/,
    );
  });
});
