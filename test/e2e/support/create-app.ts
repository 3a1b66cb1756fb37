import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';

/** The HTTP adapters every HTTP suite runs on. */
export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** A started test application and its base URL. */
export interface TestApp {
  readonly app: INestApplication;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Compiles `metadata`, creates the app on `adapter`, hands it to `configure` (as `main.ts`
 * would, e.g. `app.useGlobalFilters()`), initialises it and listens on an ephemeral port of
 * 127.0.0.1 (so that concurrent supertest requests share one server).
 * A failed init closes what was opened, then rethrows.
 */
export async function createApp(
  adapter: AdapterName,
  metadata: ModuleMetadata,
  configure?: (app: INestApplication) => void,
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), { logger: false })
      : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
          logger: false,
        });
  try {
    configure?.(app);
    await app.init();
    if (adapter === 'fastify') {
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    }
    await app.listen(0, '127.0.0.1');
  } catch (err) {
    await app.close();
    throw err;
  }
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/**
 * Resolves once `condition` holds, checking after each turn of the event loop (for effects
 * that complete asynchronously, e.g. a release after the socket closed). Fails after 2 s.
 */
export async function eventually(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 2000;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error('condition not reached within 2 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
