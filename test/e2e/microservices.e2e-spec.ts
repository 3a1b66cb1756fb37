import { Controller, Logger, type INestMicroservice } from '@nestjs/common';
import {
  ClientProxyFactory,
  EventPattern,
  MessagePattern,
  Payload,
  Transport,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import type { AddressInfo, Server } from 'node:net';
import { lastValueFrom } from 'rxjs';
import { LimiterService, RateLimit, RateSyncModule } from '../../lib/nest';
import { describeRedis, redisUrl, uniquePrefix } from '../support/redis';
import { eventually } from './support/create-app';

/** Patterns no other run shares (Redis channels are named after them). */
const P = uniquePrefix('rpc');

interface Sum {
  userId: string;
  values: number[];
}

@Controller()
class MathHandlers {
  readonly seen: string[] = [];

  @MessagePattern(`${P}.sum`)
  @RateLimit('per_user', { key: 'user:{0.userId}' })
  sum(@Payload() data: Sum): number {
    return data.values.reduce((a, b) => a + b, 0);
  }

  @MessagePattern(`${P}.fail`)
  @RateLimit('slot', { key: false })
  fail(): Promise<never> {
    return Promise.reject(new Error('handler failed'));
  }

  @EventPattern(`${P}.seen`)
  @RateLimit('per_user', { key: 'seen:{0.userId}' })
  onSeen(@Payload() data: { userId: string }): void {
    this.seen.push(data.userId);
  }
}

type Connection = { transport: Transport.TCP | Transport.REDIS; options: object };

function suite(connection: () => Connection, listening?: (app: INestMicroservice) => Connection) {
  let app: INestMicroservice;
  let client: ClientProxy;
  const limiters = (): LimiterService => app.get(LimiterService);

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: {
            per_user: { store: 'mem', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
            slot: { store: 'mem', maxConcurrent: 1 },
          },
          nonHttp: true,
        }),
      ],
      controllers: [MathHandlers],
    }).compile();
    app = moduleRef.createNestMicroservice<MicroserviceOptions>(
      connection() as MicroserviceOptions,
    );
    app.useLogger(false);
    await app.listen();
    client = ClientProxyFactory.create(
      (listening ?? connection)(app) as never,
    ) as unknown as ClientProxy;
    await client.connect();
  });
  afterEach(async () => {
    await client.close();
    await app.close();
  });

  it('admits a request, then rejects it with an RpcException payload the client receives', async () => {
    const send = (userId: string): Promise<unknown> =>
      lastValueFrom(client.send(`${P}.sum`, { userId, values: [1, 2, 3] }));
    await expect(send('ann')).resolves.toBe(6);
    await expect(send('ann')).rejects.toEqual({
      status: 'error',
      code: 'RATE_LIMITED',
      message: "Rate limit 'per_user' exceeded. Retry in 60 seconds.",
      limiter: 'per_user',
      retryAfter: 60,
      retryAfterMs: expect.any(Number) as number,
    });
    await expect(send('bob')).resolves.toBe(6);
  });

  it('releases the slot when the handler fails', async () => {
    for (let i = 0; i < 2; i++) {
      await expect(lastValueFrom(client.send(`${P}.fail`, {}))).rejects.toMatchObject({
        status: 'error',
        message: 'Internal server error',
      });
    }
    expect(limiters().metrics('slot')).toMatchObject({ allowed: 2, rejected: 0, released: 2 });
  });

  it('drops a rejected event with a warning naming the handler', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const handlers = app.get(MathHandlers);
    for (const userId of ['ann', 'ann', 'ann', 'bob']) client.emit(`${P}.seen`, { userId });
    await eventually(() => limiters().metrics('per_user').attempts === 4);
    expect(handlers.seen.sort()).toEqual(['ann', 'bob']);
    expect(limiters().metrics('per_user').rejected).toBe(2);
    const messages = warn.mock.calls.map(([m]) => String(m));
    expect(messages).toEqual([
      expect.stringContaining('@RateLimit on MathHandlers.onSeen: dropped 1 event(s)'),
    ]);
    warn.mockRestore();
  });
}

describe('microservices over TCP (@nestjs/microservices, ClientProxy)', () => {
  suite(
    () => ({ transport: Transport.TCP, options: { host: '127.0.0.1', port: 0 } }),
    (app) => ({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: (app.unwrap<Server>().address() as AddressInfo).port },
    }),
  );
});

describeRedis('microservices over Redis (@nestjs/microservices, ClientProxy)', () => {
  const { hostname, port } = new URL(redisUrl());
  suite(() => ({ transport: Transport.REDIS, options: { host: hostname, port: Number(port) } }));
});
