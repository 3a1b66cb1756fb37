import { Body, Controller, HttpCode, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RateLimit, RateSyncTesting, RateSyncTestingModule } from '@rate-sync/nestjs';
import request from 'supertest';

@Controller('auth')
class AuthController {
  @Post('login')
  @HttpCode(200)
  @RateLimit('login', { key: '{body.email}' })
  login(@Body() body: { email: string }) {
    return { welcome: body.email };
  }
}

describe('login limit', () => {
  let app: INestApplication;
  let limits: RateSyncTesting;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        // With no options it reads your rate-sync.toml; every store becomes an in-memory one.
        RateSyncTestingModule.forRoot({
          configFile: false,
          stores: { main: { engine: 'redis', url: 'redis://cache.internal:6379' } },
          limiters: {
            login: { store: 'main', algorithm: 'sliding_window', limit: 5, windowSeconds: 300 },
          },
        }),
      ],
      controllers: [AuthController],
    }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
    limits = app.get(RateSyncTesting);
  });
  afterEach(() => limits.reset());
  afterAll(() => app.close());

  const login = () =>
    request(app.getHttpServer()).post('/auth/login').send({ email: 'ann@example.com' });

  it('answers the 6th login with 429, and admits again after 300 s', async () => {
    for (let i = 0; i < 5; i++) await login().expect(200);
    const blocked = await login().expect(429);
    expect(blocked.headers['retry-after']).toBe('300');
    await limits.advance(300);
    await login().expect(200);
  });

  it('starts every test from a clean slate', async () => {
    await login().expect(200);
  });
});
