import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../lib/cli/run-cli';
import { sparePort } from '../redis/redis-server';
import { dropSchema, PG_URL, uniqueName } from '../support/postgres';
import { redisUrl, uniquePrefix } from '../support/redis';

/** Runs the CLI in `dir`; returns its exit code and what it wrote. */
async function cli(dir: string, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const started = performance.now();
  const code = await runCli(argv, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    cwd: dir,
    env: {},
  });
  return { code, out: out.join('\n'), err: err.join('\n'), ms: performance.now() - started };
}

describe('rate-sync CLI', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rs-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => writeFileSync(join(dir, 'rate-sync.toml'), text);

  it('validate: a valid file gives a table of stores and limiters with the URL redacted', async () => {
    write(`
[stores.main]
engine = "redis"
url = "redis://:s3cret@127.0.0.1:6379/0"

[limiters.api]
store = "main"
rate_per_second = 10
burst = 20
enforce = false
`);
    const r = await cli(dir, 'validate');
    expect(r.code).toBe(0);
    expect(r.out).toContain('configuration is valid: 1 store(s), 1 limiter(s)');
    expect(r.out).toMatch(/main\s+redis\s+redis:\/\/\*\*\*@127\.0\.0\.1:6379\/0/);
    expect(r.out).toMatch(/api\s+main\s+token_bucket\s+10\/s burst 20\s+shadow/);
    expect(r.out + r.err).not.toContain('s3cret');
    const json = await cli(dir, 'validate', '--json');
    expect(JSON.parse(json.out)).toMatchObject({
      ok: true,
      stores: [{ id: 'main', engine: 'redis', url: 'redis://***@127.0.0.1:6379/0' }],
      limiters: [{ id: 'api', store: 'main', enforce: false }],
    });
  });

  it('validate: every problem at once, exit code 1; enforce that is not a boolean is one', async () => {
    write(`
[stores.main]
engine = "memory"

[limiters.api]
store = "main"
rate_per_second = -1
enforce = "no"
`);
    const r = await cli(dir, 'validate');
    expect(r.code).toBe(1);
    expect(r.err).toContain('limiters.api.rate_per_second: expected a number > 0, got -1');
    expect(r.err).toContain('limiters.api.enforce: expected true or false, got "no"');
  });

  it('usage errors exit with 2', async () => {
    expect((await cli(dir)).code).toBe(2);
    expect((await cli(dir, 'frobnicate')).code).toBe(2);
    expect((await cli(dir, 'state')).code).toBe(2);
    expect((await cli(dir, 'validate', '--nope')).code).toBe(2);
  });

  it('refuses a memory store for state and reset', async () => {
    write('[stores.m]\nengine = "memory"\n[limiters.api]\nstore = "m"\nrate_per_second = 1\n');
    const r = await cli(dir, 'state', 'api', 'u');
    expect(r.code).toBe(1);
    expect(r.err).toContain("store 'm' is a memory store");
  });

  it.each([
    ['redis', (port: number) => `redis://:pw-s3cret@127.0.0.1:${port}/0`, 'redis://***@127.0.0.1'],
    [
      'postgres',
      (port: number) => `postgres://u:pw-s3cret@127.0.0.1:${port}/x`,
      'postgres://***@127.0.0.1',
    ],
  ])(
    'an unreachable %s store: exit 1 within socket_connect_timeout, URL redacted',
    async (engine, url, shown) => {
      const port = await sparePort(16700, 16800);
      write(`
[stores.main]
engine = "${engine}"
url = "${url(port)}"
socket_connect_timeout = 2

[limiters.api]
store = "main"
rate_per_second = 1
`);
      const r = await cli(dir, 'reset', 'api', 'u');
      expect(r.code).toBe(1);
      expect(r.err).toContain(`store 'main' at ${shown}:${port}`);
      expect(r.err).toContain('is unreachable');
      expect(r.err).not.toContain('s3cret');
      expect(r.ms).toBeLessThan(2000);
    },
  );

  describe.each([
    [
      'redis',
      () => `engine = "redis"\nurl = "${redisUrl()}"\nkey_prefix = "${uniquePrefix('cli')}"`,
    ],
    [
      'postgres',
      () =>
        `engine = "postgres"\nurl = "${PG_URL}"\nschema_name = "${(schema = uniqueName('cli'))}"`,
    ],
  ])('on %s', (engine, store) => {
    afterAll(async () => {
      if (engine === 'postgres') await dropSchema(schema);
    });

    it('state reads a key; reset and reset-store free it', async () => {
      write(`[stores.main]\n${store()}\n
[limiters.api]
store = "main"
rate_per_second = 0.001
burst = 3
[limiters.other]
store = "main"
rate_per_second = 0.001
burst = 3
`);
      const { RateSync } = await import('../../lib/core');
      const { loadConfig } = await import('../../lib/core/config');
      const rs = new RateSync(loadConfig({ cwd: dir, env: {} }));
      await rs.connect();
      await rs.tryAcquire('api', { key: 'user-1' });
      await rs.tryAcquire('api', { key: 'user-1' });
      await rs.tryAcquire('other', { key: 'user-1' });

      const state = await cli(dir, 'state', 'api', 'user-1', '--json');
      expect(state.code).toBe(0);
      expect(JSON.parse(state.out)).toMatchObject({
        limiterId: 'api',
        key: 'user-1',
        limit: 3,
        remaining: 1,
      });
      expect((await cli(dir, 'state', 'api', 'user-1')).out).toMatch(/remaining 1/);

      expect((await cli(dir, 'reset', 'api', 'user-1')).out).toBe("reset key 'user-1' of 'api'");
      expect((await rs.state('api', 'user-1')).remaining).toBe(3);
      expect((await rs.state('other', 'user-1')).remaining).toBe(2);

      const all = await cli(dir, 'reset-store', 'main');
      expect(all.code).toBe(0);
      expect(all.out).toBe("reset every key of 'api', 'other' in store 'main'");
      expect((await rs.state('other', 'user-1')).remaining).toBe(3);
      await rs.close();
    });
  });
});

let schema = '';
