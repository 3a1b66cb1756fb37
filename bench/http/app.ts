/**
 * One benchmarked Nest application, run in its own process by the HTTP suite:
 * `node app.js <express|fastify> <variant>`. It listens on 127.0.0.1 (a free port), reports
 * the port over IPC, measures its own CPU time between `cpu-start` and `cpu-stop`, and exits
 * on `exit` or when the parent goes away.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import {
  ADAPTERS,
  VARIANTS,
  type AppCommand,
  type AppReply,
  type AppVariant,
  type HttpAdapterName,
} from './app-variant';
import { BenchAppModule } from './bench-app.module';

function send(reply: AppReply): void {
  process.send?.(reply);
}

async function main(): Promise<void> {
  const [adapter, variant] = process.argv.slice(2) as [HttpAdapterName, AppVariant];
  if (!ADAPTERS.includes(adapter) || !VARIANTS.includes(variant)) {
    throw new Error(`usage: app.js <${ADAPTERS.join('|')}> <${VARIANTS.join('|')}>`);
  }
  const module = BenchAppModule.forVariant(variant);
  const app: INestApplication =
    adapter === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(module, { logger: false });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;

  let cpuStart: NodeJS.CpuUsage | undefined;
  process.on('message', (command: AppCommand) => {
    if (command.type === 'cpu-start') cpuStart = process.cpuUsage();
    else if (command.type === 'cpu-stop') {
      const used = process.cpuUsage(cpuStart);
      send({ type: 'cpu', micros: used.user + used.system });
    } else if (command.type === 'exit') void app.close().finally(() => process.exit(0));
  });
  process.on('disconnect', () => void app.close().finally(() => process.exit(0)));
  send({ type: 'ready', port });
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
});
