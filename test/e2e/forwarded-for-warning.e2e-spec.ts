import { Controller, Get, Logger } from '@nestjs/common';
import request from 'supertest';
import { RateLimit, RateSyncModule, type RateSyncModuleOptions } from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

@Controller()
class IpController {
  @Get('ip')
  @RateLimit('api')
  ip(): string {
    return 'ip';
  }
}

function options(extra: Partial<RateSyncModuleOptions> = {}): RateSyncModuleOptions {
  return {
    configFile: false,
    stores: { mem: { engine: 'memory' } },
    limiters: { api: { store: 'mem', ratePerSecond: 100, burst: 100 } },
    ...extra,
  };
}

describe.each(ADAPTERS)('X-Forwarded-For without trusted proxies (%s)', (adapter) => {
  let t: TestApp;
  let warn: jest.SpyInstance;
  const warnings = (): string[] =>
    warn.mock.calls.map(([m]) => String(m)).filter((m) => m.includes('X-Forwarded-For'));
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    warn.mockRestore();
    await t.close();
  });
  const boot = async (extra?: Partial<RateSyncModuleOptions>): Promise<void> => {
    t = await createApp(adapter, {
      imports: [RateSyncModule.forRoot(options(extra))],
      controllers: [IpController],
    });
  };

  it('warns once, naming the trustedProxies option, when requests carry the header', async () => {
    await boot();
    await request(t.url).get('/ip').expect(200);
    expect(warnings()).toHaveLength(0);
    await request(t.url).get('/ip').set('x-forwarded-for', '203.0.113.7').expect(200);
    await request(t.url).get('/ip').set('x-forwarded-for', '203.0.113.8').expect(200);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain('trustedProxies');
  });

  it('stays quiet when trusted proxies are configured', async () => {
    await boot({ trustedProxies: ['10.0.0.0/8'] });
    await request(t.url).get('/ip').set('x-forwarded-for', '203.0.113.7').expect(200);
    expect(warnings()).toHaveLength(0);
  });
});
