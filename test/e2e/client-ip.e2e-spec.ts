import { Controller, Get } from '@nestjs/common';
import request from 'supertest';
import { LimiterService, RateLimit, RateSyncModule } from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

@Controller()
class IpController {
  @Get('ip')
  @RateLimit('per_ip')
  ip(): string {
    return 'ok';
  }
}

function boot(adapter: (typeof ADAPTERS)[number], trustedProxies?: string[]): Promise<TestApp> {
  return createApp(adapter, {
    imports: [
      RateSyncModule.forRoot({
        configFile: false,
        trustedProxies,
        stores: { mem: { engine: 'memory' } },
        limiters: {
          per_ip: { store: 'mem', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
        },
      }),
    ],
    controllers: [IpController],
  });
}

describe.each(ADAPTERS)('client IP and trusted proxies (%s)', (adapter) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('without trusted proxies: the socket address, X-Forwarded-For ignored', async () => {
    t = await boot(adapter);
    await request(t.url).get('/ip').set('X-Forwarded-For', '1.1.1.1').expect(200);
    await request(t.url).get('/ip').set('X-Forwarded-For', '2.2.2.2').expect(429);
    expect((await t.app.get(LimiterService).state('per_ip', '127.0.0.1')).remaining).toBe(0);
  });

  it('behind a trusted proxy: the right-most untrusted address; a spoofed left-most one is ignored', async () => {
    t = await boot(adapter, ['127.0.0.0/8', '10.0.0.0/8']);
    const service = t.app.get(LimiterService);
    // The client forged "6.6.6.6"; the proxies appended 203.0.113.7 then 10.0.0.2.
    await request(t.url)
      .get('/ip')
      .set('X-Forwarded-For', '6.6.6.6, 203.0.113.7, 10.0.0.2')
      .expect(200);
    expect((await service.state('per_ip', '203.0.113.7')).remaining).toBe(0);
    // Another forged prefix does not buy a new bucket.
    await request(t.url).get('/ip').set('X-Forwarded-For', '7.7.7.7, 203.0.113.7').expect(429);
    await request(t.url).get('/ip').set('X-Forwarded-For', '203.0.113.8').expect(200);
    expect((await service.state('per_ip', '6.6.6.6')).remaining).toBe(1);
  });

  it('normalises IPv6 and IPv4-mapped IPv6 entries', async () => {
    t = await boot(adapter, ['127.0.0.1/32']);
    await request(t.url).get('/ip').set('X-Forwarded-For', '::ffff:198.51.100.4').expect(200);
    await request(t.url).get('/ip').set('X-Forwarded-For', '198.51.100.4').expect(429);
    await request(t.url).get('/ip').set('X-Forwarded-For', '2001:DB8:0:0::1').expect(200);
    await request(t.url).get('/ip').set('X-Forwarded-For', '[2001:db8::1]:443').expect(429);
  });

  it('rejects a malformed CIDR at boot, naming the entry', async () => {
    await expect(boot(adapter, ['10.0.0.0/8', '10.0.0.0/33'])).rejects.toThrow(
      /trustedProxies\[1\]: expected a CIDR/,
    );
  });
});
