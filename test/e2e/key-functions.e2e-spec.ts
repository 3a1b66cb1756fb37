import {
  Controller,
  Get,
  Injectable,
  Logger,
  type ExecutionContext,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { RateLimit, RateLimitExceededError, RateSyncModule } from '../../lib';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

type Req = { headers: Record<string, string | undefined> };
const header = (ctx: ExecutionContext, name: string): string | undefined =>
  ctx.switchToHttp().getRequest<Req>().headers[name];

/** Tokens and their tenants, as an identity service would answer (asynchronously). */
const tenants: Record<string, string> = { 'tok-a1': 'acme', 'tok-a2': 'acme', 'tok-g': 'globex' };
const tenantOfToken = (token: string | undefined): Promise<string | undefined> =>
  new Promise((resolve) => setImmediate(() => resolve(tenants[token ?? ''])));
const tenantOf = (ctx: ExecutionContext) => tenantOfToken(header(ctx, 'x-token'));

/** What a key function answers, chosen by the test through `x-answer`. */
function answer(ctx: ExecutionContext): unknown {
  const kind = header(ctx, 'x-answer');
  const value = header(ctx, 'x-value');
  switch (kind) {
    case 'throw':
      throw new Error('token service down');
    case 'object':
      return { id: value };
    case 'null':
      return null;
    case 'number':
      return Number(value);
    default:
      return value;
  }
}

@Controller()
class KeysController {
  @Get('tenant')
  @RateLimit('per_key', { key: tenantOf })
  tenant(): string {
    return 'ok';
  }

  @Get('sync')
  @RateLimit('per_key', { key: (ctx) => answer(ctx) as string })
  sync(): string {
    return 'ok';
  }

  @Get('async')
  @RateLimit('per_key', {
    key: async (ctx) => {
      await new Promise((resolve) => setImmediate(resolve));
      return answer(ctx) as string;
    },
  })
  async(): string {
    return 'ok';
  }
}

describe.each(ADAPTERS)('key functions (%s)', (adapter) => {
  let t: TestApp;
  let warn: jest.SpyInstance;
  beforeEach(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    t = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: {
            per_key: { store: 'mem', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
          },
        }),
      ],
      controllers: [KeysController],
    });
  });
  afterEach(async () => {
    await t.close();
    warn.mockRestore();
  });

  const get = (path: string, headers: Record<string, string>) => {
    const req = request(t.url).get(path);
    for (const [name, value] of Object.entries(headers)) req.set(name, value);
    return req;
  };
  const warnings = () => warn.mock.calls.map(([m]) => String(m));

  it('counts by a tenant looked up asynchronously from the token', async () => {
    await get('/tenant', { 'x-token': 'tok-a1' }).expect(200);
    await get('/tenant', { 'x-token': 'tok-a2' }).expect(429); // same tenant, other token
    await get('/tenant', { 'x-token': 'tok-g' }).expect(200);
  });

  it.each(['/sync', '/async'])(
    '%s: answers are escaped: "-" is not the placeholder of failed lookups',
    async (path) => {
      await get(path, { 'x-value': '-' }).expect(200);
      await get(path, { 'x-answer': 'throw' }).expect(200); // the placeholder bucket: another key
      await get(path, { 'x-value': '%2d' }).expect(200); // not the escaped "-" either
      await get(path, { 'x-value': '-' }).expect(429);
    },
  );

  it.each(['/sync', '/async'])(
    '%s: a throw, a rejection or a non-string counts under the placeholder, warned once per route',
    async (path) => {
      await get(path, { 'x-answer': 'throw' }).expect(200);
      await get(path, { 'x-answer': 'object', 'x-value': 'mallory' }).expect(429);
      await get(path, { 'x-answer': 'null' }).expect(429);
      // Numbers are text, as in templates: 42 and 43 are two keys.
      await get(path, { 'x-answer': 'number', 'x-value': '42' }).expect(200);
      await get(path, { 'x-answer': 'number', 'x-value': '43' }).expect(200);
      const mine = warnings().filter((m) => m.includes(`KeysController.${path.slice(1)}:`));
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatch(
        path === '/sync'
          ? /the key function threw Error: token service down; such requests are counted together under '-'/
          : /the key function's promise rejected with Error: token service down/,
      );
    },
  );

  it('an absent answer (undefined or empty) is the shared bucket, as documented', async () => {
    await get('/sync', {}).expect(200);
    await get('/sync', { 'x-value': '' }).expect(429);
    expect(warnings()).toEqual([]);
  });
});

@Injectable()
class Exporter {
  /** Per tenant (looked up asynchronously from the token argument), cost by rows. */
  @RateLimit(
    { among: ['export_small', 'export_big'], pick: async (ctx) => ctx.getArgs()[2] },
    {
      key: (ctx) => tenantOfToken(ctx.getArgs<[string]>()[0]),
      cost: (ctx) => ctx.getArgs<[string, number]>()[1],
      mode: 'try',
    },
  )
  async export(_token: string, _rows: number, _plan: string): Promise<string> {
    return 'done';
  }
}

describe('key, pick and cost functions on a provider method', () => {
  let app: INestApplicationContext;
  let exporter: Exporter;
  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: {
            export_small: {
              store: 'mem',
              algorithm: 'sliding_window',
              limit: 3,
              windowSeconds: 60,
            },
            export_big: { store: 'mem', algorithm: 'sliding_window', limit: 10, windowSeconds: 60 },
          },
        }),
      ],
      providers: [Exporter],
    }).compile();
    app = await moduleRef.init();
    exporter = app.get(Exporter);
  });
  afterEach(() => app.close());

  it('counts per tenant under the picked limiter, by cost', async () => {
    await expect(exporter.export('tok-a1', 3, 'export_small')).resolves.toBe('done');
    await expect(exporter.export('tok-a2', 1, 'export_small')).rejects.toThrow(
      RateLimitExceededError,
    );
    await expect(exporter.export('tok-g', 3, 'export_small')).resolves.toBe('done');
    await expect(exporter.export('tok-a1', 10, 'export_big')).resolves.toBe('done');
    // A cost the limit can never admit is refused, not thrown as a bad argument.
    await expect(exporter.export('tok-g', 11, 'export_big')).rejects.toThrow(
      RateLimitExceededError,
    );
  });
});
