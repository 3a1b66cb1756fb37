import { Body, Controller, Get, Post } from '@nestjs/common';
import request from 'supertest';
import {
  LimiterService,
  RateLimit,
  RateSyncModule,
  type RateSyncModuleOptions,
} from '../../lib/nest';
import { EMAIL_SPELLINGS } from '../fixtures/email-spellings';
import { ADAPTERS, createApp, type AdapterName, type TestApp } from './support/create-app';

@Controller()
class AuthController {
  @Post('login')
  @RateLimit('login', { key: '{ip}:{body.email|email}' })
  login(@Body() _body: unknown): string {
    return 'ok';
  }

  @Post('pair')
  @RateLimit('one', { key: '{body.a}:{body.b}' })
  pair(): string {
    return 'ok';
  }

  @Get('ip')
  @RateLimit('one')
  ip(): string {
    return 'ok';
  }

  @Get('ip48')
  @RateLimit('one', { key: 'wide:{ip|v6/48}' })
  ip48(): string {
    return 'ok';
  }
}

const window = (limit: number) =>
  ({ store: 'mem', algorithm: 'sliding_window', limit, windowSeconds: 60 }) as const;

function boot(adapter: AdapterName, options: Partial<RateSyncModuleOptions> = {}) {
  return createApp(adapter, {
    imports: [
      RateSyncModule.forRoot({
        configFile: false,
        trustedProxies: ['127.0.0.1'],
        stores: { mem: { engine: 'memory' } },
        limiters: { login: window(3), one: window(1) },
        ...options,
      }),
    ],
    controllers: [AuthController],
  });
}

describe.each(ADAPTERS)('keys that cannot be gamed (%s)', (adapter) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const from = (path: string, client: string) =>
    request(t!.url).get(path).set('X-Forwarded-For', client);

  it('eight spellings of one address share its 3 attempts ({ip}:{body.email|email})', async () => {
    t = await boot(adapter);
    const statuses: number[] = [];
    for (const email of EMAIL_SPELLINGS) {
      statuses.push((await request(t.url).post('/login').send({ email })).status);
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429]);
    await request(t.url).post('/login').send({ email: 'bob@example.com' }).expect(201);
  });

  it('escapes template fields: (x:y, z) and (x, y:z) are two clients', async () => {
    t = await boot(adapter);
    await request(t.url).post('/pair').send({ a: 'x:y', b: 'z' }).expect(201);
    await request(t.url).post('/pair').send({ a: 'x', b: 'y:z' }).expect(201);
    await request(t.url).post('/pair').send({ a: 'x:y', b: 'z' }).expect(429);
  });

  it('counts IPv6 clients by their /56 by default; IPv4-mapped addresses as IPv4', async () => {
    t = await boot(adapter);
    await from('/ip', '2001:db8:0:ab01::1').expect(200);
    await from('/ip', '2001:db8:0:abff:1:2:3:4').expect(429); // same /56
    await from('/ip', '2001:db8:0:ac00::1').expect(200); // the next /56
    expect((await t.app.get(LimiterService).state('one', '2001:db8:0:ab00::/56')).remaining).toBe(
      0,
    );
    await from('/ip', '::ffff:198.51.100.4').expect(200);
    await from('/ip', '198.51.100.4').expect(429);
  });

  it('ipv6Subnet sets the prefix per module, {ip|v6/N} per template', async () => {
    t = await boot(adapter, { ipv6Subnet: 64 });
    await from('/ip', '2001:db8:0:ab01::1').expect(200);
    await from('/ip', '2001:db8:0:ab01::2').expect(429);
    await from('/ip', '2001:db8:0:ab02::1').expect(200);
    await from('/ip48', '2001:db8:0:ab01::1').expect(200);
    await from('/ip48', '2001:db8:0:ffff::1').expect(429); // same /48
  });
});

describe('key template and ipv6Subnet errors at boot', () => {
  it('names the unknown filter, the template and the handler', async () => {
    @Controller()
    class Typo {
      @Post('login')
      @RateLimit('login', { key: '{body.email|lowercase}' })
      login(): void {}
    }
    await expect(
      createApp('express', {
        imports: [
          RateSyncModule.forRoot({
            configFile: false,
            stores: { mem: { engine: 'memory' } },
            limiters: { login: window(3) },
          }),
        ],
        controllers: [Typo],
      }),
    ).rejects.toThrow(
      /'{body.email\|lowercase}' \(in @RateLimit on Typo.login\): unknown filter 'lowercase'/,
    );
  });

  it.each([0, 129, 56.5, '56'])('rejects ipv6Subnet %p', async (ipv6Subnet) => {
    await expect(boot('express', { ipv6Subnet: ipv6Subnet as number })).rejects.toThrow(
      /^ipv6Subnet: expected an IPv6 prefix length, an integer from 1 to 128/,
    );
  });
});
