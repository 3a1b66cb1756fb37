import {
  Controller,
  Get,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import { RateLimit, RateSyncModule } from '../../lib/nest';
import { ADAPTERS, createApp, type TestApp } from './support/create-app';

/** A stand-in for an authentication guard: sets `request.user` from a header. */
@Injectable()
class FakeAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string>; user?: object }>();
    req.user = { id: req.headers['x-user'] };
    return true;
  }
}

@Controller()
class MeController {
  @Get('me')
  @RateLimit('per_user', { key: 'user:{user.id}' })
  me(): string {
    return 'me';
  }
}

describe.each(ADAPTERS)('{user.*} keys behind a global auth guard (%s)', (adapter) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: {
            per_user: { store: 'mem', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
          },
        }),
      ],
      controllers: [MeController],
      // Global guards run in registration order; the root module's own come first.
      providers: [{ provide: APP_GUARD, useClass: FakeAuthGuard }],
    });
  });
  afterEach(() => t.close());

  it('counts per authenticated user', async () => {
    await request(t.url).get('/me').set('x-user', 'alice').expect(200);
    await request(t.url).get('/me').set('x-user', 'alice').expect(429);
    await request(t.url).get('/me').set('x-user', 'bob').expect(200);
  });
});
