// @nestjs/graphql (Apollo), @nestjs/websockets (ws), @nestjs/microservices (TCP) and
// @nestjs/terminus on Nest 12, against the packed package: each limited handler admits, then
// rejects in its transport's shape. Prints one line per check; exits 1 if any failed.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import {
  Catch,
  Controller,
  Get,
  Module,
  UseFilters,
  UseInterceptors,
  type ArgumentsHost,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import {
  ClientProxyFactory,
  MessagePattern,
  Transport,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  BaseWsExceptionFilter,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
} from '@nestjs/websockets';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { lastValueFrom } from 'rxjs';
import WebSocket from 'ws';
import {
  RateLimit,
  RateLimitInterceptor,
  RateSyncHealthIndicator,
  RateSyncModule,
} from '@rate-sync/nestjs';

@Resolver()
class HelloResolver {
  @Query(() => String)
  @RateLimit('one', { key: false })
  hello(): string {
    return 'world';
  }
}

/** The filter docs/nestjs.md gives for the ws adapter: `{ event: 'exception', data }`. */
@Catch(WsException)
class WsExceptionEcho extends BaseWsExceptionFilter {
  override catch(exception: WsException, host: ArgumentsHost): void {
    const client = host.switchToWs().getClient<{ send(data: string): void }>();
    client.send(JSON.stringify({ event: 'exception', data: exception.getError() }));
  }
}

@WebSocketGateway()
@UseInterceptors(RateLimitInterceptor)
@UseFilters(WsExceptionEcho)
class ChatGateway {
  @SubscribeMessage('say')
  @RateLimit('one_ws', { key: false })
  say(): { event: string; data: string } {
    return { event: 'said', data: 'ok' };
  }
}

@Controller()
class MathHandlers {
  @MessagePattern('sum')
  @RateLimit('one_rpc', { key: false })
  sum(values: number[]): number {
    return values.reduce((a, b) => a + b, 0);
  }
}

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly rateSync: RateSyncHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.rateSync.isHealthy('rate_sync')]);
  }
}

const limiters = {
  one: { store: 'mem', algorithm: 'sliding_window' as const, limit: 1, windowSeconds: 60 },
  one_ws: { store: 'mem', algorithm: 'sliding_window' as const, limit: 1, windowSeconds: 60 },
  one_rpc: { store: 'mem', algorithm: 'sliding_window' as const, limit: 1, windowSeconds: 60 },
};

@Module({
  imports: [
    RateSyncModule.forRoot({
      configFile: false,
      stores: { mem: { engine: 'memory' } },
      limiters,
      nonHttp: true,
    }),
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      playground: false,
    }),
    TerminusModule,
  ],
  controllers: [MathHandlers, HealthController],
  providers: [HelloResolver, ChatGateway],
})
class AppModule {}

const results: { name: string; ok: boolean; detail: string }[] = [];
const check = (name: string, ok: boolean, detail: unknown): void =>
  void results.push({ name, ok, detail: JSON.stringify(detail) });

async function graphql(base: string): Promise<void> {
  const ask = async () => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ hello }' }),
    });
    return {
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as {
        data?: { hello?: string } | null;
        errors?: { extensions?: { code?: string; limiter?: string } }[];
      },
    };
  };
  const first = await ask();
  const second = await ask();
  check('GraphQL (Apollo): first query answered', first.body.data?.hello === 'world', first.body);
  const ext = second.body.errors?.[0]?.extensions;
  check(
    'GraphQL (Apollo): second query is a RATE_LIMITED error with Retry-After',
    ext?.code === 'RATE_LIMITED' && ext.limiter === 'one' && Number(second.retryAfter) >= 1,
    { extensions: ext, retryAfter: second.retryAfter },
  );
}

async function websocket(base: string): Promise<void> {
  const socket = new WebSocket(base.replace('http', 'ws'));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const messages: { event: string; data: unknown }[] = [];
  socket.on('message', (raw) => messages.push(JSON.parse(String(raw))));
  socket.send(JSON.stringify({ event: 'say' }));
  socket.send(JSON.stringify({ event: 'say' }));
  const deadline = Date.now() + 5000;
  while (messages.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  socket.terminate();
  const said = messages.find((m) => m.event === 'said');
  const refused = messages.find((m) => m.event === 'exception')?.data as
    { code?: string; limiter?: string } | undefined;
  check(
    'WebSocket (ws): first message answered, second a RATE_LIMITED exception',
    said !== undefined && refused?.code === 'RATE_LIMITED' && refused.limiter === 'one_ws',
    messages,
  );
}

async function rpc(port: number): Promise<void> {
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { port } });
  try {
    const sum = await lastValueFrom(client.send<number>('sum', [1, 2]));
    let error: unknown;
    await lastValueFrom(client.send<number>('sum', [1, 2])).catch((e: unknown) => (error = e));
    const shape = error as { code?: string; limiter?: string } | undefined;
    check(
      'Microservice (TCP): first call answered, second an RpcException RATE_LIMITED',
      sum === 3 && shape?.code === 'RATE_LIMITED' && shape.limiter === 'one_rpc',
      { sum, error },
    );
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error'] });
  app.useWebSocketAdapter(new WsAdapter(app));
  // inheritAppConfig: the global interceptor (nonHttp) reaches the connected microservice.
  const tcp = app.connectMicroservice<MicroserviceOptions>(
    { transport: Transport.TCP, options: { host: '127.0.0.1', port: 0 } },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const rpcPort = (tcp.unwrap<{ address(): AddressInfo }>().address() as AddressInfo).port;
  try {
    await graphql(base);
    await websocket(base);
    await rpc(rpcPort);
    const health = await fetch(`${base}/health`);
    const body = (await health.json()) as { status?: string };
    check(
      'terminus: RateSyncHealthIndicator reports up',
      health.status === 200 && body.status === 'ok',
      body,
    );
  } finally {
    await app.close();
  }
  for (const r of results)
    console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.ok ? '' : `: ${r.detail}`}`);
  if (results.some((r) => !r.ok) || results.length !== 5) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
