import { Controller, Get, Logger } from '@nestjs/common';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ConfigValidationError, InvalidArgumentError, LimiterNotFoundError } from '../../lib/core';
import { RateLimit, RateSyncModule } from '../../lib/nest';
import { createApp, type TestApp } from './support/create-app';

/** What a first boot tells the user: where the config came from, what is ignored, what is mistyped. */
describe('a first boot that explains itself', () => {
  let dir: string;
  let cwd: string;
  let envConfig: string | undefined;
  let t: TestApp | undefined;
  let log: jest.SpyInstance;
  let warn: jest.SpyInstance;

  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'rate-sync-first-boot-')));
    cwd = process.cwd();
    envConfig = process.env.RATE_SYNC_CONFIG;
    delete process.env.RATE_SYNC_CONFIG;
    process.chdir(dir);
    log = jest.spyOn(Logger.prototype, 'log');
    warn = jest.spyOn(Logger.prototype, 'warn');
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    process.chdir(cwd);
    if (envConfig !== undefined) process.env.RATE_SYNC_CONFIG = envConfig;
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  const writeToml = (lines: string[]): string => {
    const path = join(dir, 'rate-sync.toml');
    writeFileSync(path, lines.join('\n'));
    return path;
  };
  const messages = (spy: jest.SpyInstance): string[] => spy.mock.calls.map((c) => String(c[0]));

  @Controller()
  class AuthController {
    @Get('login')
    @RateLimit('login')
    login(): string {
      return 'ok';
    }
  }

  it('no rate-sync.toml: the unknown-limiter error says no file was found, where it looked, and how to point at one', async () => {
    const err = await createApp('express', {
      imports: [RateSyncModule.forRoot()],
      controllers: [AuthController],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimiterNotFoundError);
    const message = (err as Error).message;
    expect(message).toContain("Unknown limiter 'login' in @RateLimit on AuthController.login");
    expect(message).toContain('No config file was found');
    expect(message).toContain(
      `looked for rate-sync.toml and config/rate-sync.toml in the working directory ${dir}`,
    );
    expect(message).toContain('RATE_SYNC_CONFIG=');
    expect(message).toContain('configFile');
  });

  it('logs one line naming the config file, the stores and their engines, and no secret', async () => {
    const file = writeToml([
      '[stores.local]',
      'engine = "memory"',
      '[stores.cache]',
      'engine = "redis"',
      'url = "redis://:FakeBootSecret@127.0.0.1:6379/0"',
      '[limiters.login]',
      'store = "local"',
      'algorithm = "sliding_window"',
      'limit = 1',
      'window_seconds = 60',
    ]);
    t = await createApp('express', {
      imports: [RateSyncModule.forRoot()],
      controllers: [AuthController],
    });
    await request(t.url).get('/login').expect(200);
    await request(t.url).get('/login').expect(429);
    const ready = messages(log).filter((m) => m.startsWith('rate-sync ready'));
    expect(ready).toEqual([
      `rate-sync ready: config file ${file}; stores: local (memory), cache (redis); 1 limiter`,
    ]);
    const everything = [...messages(log), ...messages(warn)].join('\n');
    expect(everything).not.toContain('FakeBootSecret');
    expect(everything).not.toContain('redis://');
  });

  it('a parameter of the other algorithm (a Python file) loads, and is logged once as a warning with file and line', async () => {
    const file = writeToml([
      '[stores.local]', // 1
      'engine = "memory"', // 2
      '[limiters.login]', // 3
      'store = "local"', // 4
      'algorithm = "sliding_window"', // 5
      'limit = 1', // 6
      'window_seconds = 60', // 7
      'rate_per_second = 5', // 8
    ]);
    t = await createApp('express', {
      imports: [RateSyncModule.forRoot()],
      controllers: [AuthController],
    });
    await request(t.url).get('/login').expect(200);
    await request(t.url).get('/login').expect(429); // the window decides; the rate is ignored
    const warnings = messages(warn).filter((m) => m.includes('rate_per_second'));
    expect(warnings).toEqual([
      `rate-sync: limiters.login.rate_per_second: applies only to token_bucket limiters, and this limiter's algorithm is "sliding_window": ignored (as the Python library does); remove it (${file}:8)`,
    ]);
  });

  it('a key no algorithm knows still fails the boot, with a did-you-mean', async () => {
    writeToml([
      '[stores.local]',
      'engine = "memory"',
      '[limiters.login]',
      'store = "local"',
      'rate_per_secnd = 5',
    ]);
    const err = await createApp('express', {
      imports: [RateSyncModule.forRoot()],
      controllers: [AuthController],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigValidationError);
    expect((err as Error).message).toContain(
      'limiters.login.rate_per_secnd: unknown key; did you mean `rate_per_second`?',
    );
  });

  const memoryConfig = () =>
    RateSyncModule.forRoot({
      configFile: false,
      stores: { local: { engine: 'memory' } },
      limiters: {
        login: { store: 'local', ratePerSecond: 1 },
        api: { store: 'local', ratePerSecond: 9 },
      },
    });

  it("@RateLimit('logni') suggests the nearest limiter id", async () => {
    @Controller()
    class Typo {
      @Get()
      @RateLimit('logni')
      handler(): void {}
    }
    const err = await createApp('express', {
      imports: [memoryConfig()],
      controllers: [Typo],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimiterNotFoundError);
    expect((err as Error).message).toContain(
      "Unknown limiter 'logni' in @RateLimit on Typo.handler; did you mean 'login'? Known limiters: 'login', 'api'.",
    );
  });

  it('a bad key template names the class and handler it is on', async () => {
    @Controller()
    class BadTemplate {
      @Get()
      @RateLimit('login', { key: '{bdy.email}' })
      handler(): void {}
    }
    const err = await createApp('express', {
      imports: [memoryConfig()],
      controllers: [BadTemplate],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toContain(
      "placeholder {bdy.email} in '{bdy.email}' (in @RateLimit on BadTemplate.handler): unknown source 'bdy'; did you mean 'body'?",
    );
  });
});
