import { Controller, Get } from '@nestjs/common';
import request from 'supertest';
import { RateLimit, RateSyncModule } from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

@Controller('pin')
class PinController {
  /** 1/s, and a client over it is shut out for 30 s. */
  @Get()
  @RateLimit('pin')
  check(): string {
    return 'ok';
  }
}

describe.each(ADAPTERS)('block_seconds over HTTP (%s)', (adapter) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { s: { engine: 'memory' } },
          limiters: { pin: { store: 's', ratePerSecond: 1, blockSeconds: 30 } },
        }),
      ],
      controllers: [PinController],
    });
  });
  afterEach(() => t.close());

  it('answers 429 with a Retry-After of the block, not of the rate, until it ends', async () => {
    await request(t.url).get('/pin').expect(200);
    const first = await request(t.url).get('/pin').expect(429);
    expect(first.headers['retry-after']).toBe('30');
    expect(first.body).toMatchObject({ limiter: 'pin', retryAfter: 30 });
    // The rate alone would admit again within a second; the block says 30 s, and holds.
    const later = await request(t.url).get('/pin').expect(429);
    expect(Number(later.headers['retry-after'])).toBeGreaterThanOrEqual(29);
    expect(Number(later.headers['retry-after'])).toBeLessThanOrEqual(30);
  });
});
