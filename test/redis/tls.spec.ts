import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError, RateSync, StoreUnavailableError } from '../../lib/core';
import { loadConfig } from '../../lib/core/config';
import { describeRedisBinaries } from '../support/redis';
import { MemoLogger } from './engine-fixture';
import { sparePort } from './redis-server';
import { ThrowawayCa, TlsRedisServer, type CertFiles } from './tls-server';

/**
 * A redis store configured in TOML against a private TLS-only Redis: `rediss://`, the CA,
 * client certificate and key read from the files the TOML names, and an ACL user. The CA is
 * made by openssl for this file and deleted with it.
 */
const PASSWORD = `acl-${Math.random().toString(36).slice(2)}`;

describeRedisBinaries('redis over TLS, with a client certificate and an ACL user', () => {
  let ca: ThrowawayCa;
  let otherCa: ThrowawayCa;
  let server: TlsRedisServer;
  let client: CertFiles;
  let dir: string;

  beforeAll(async () => {
    ca = new ThrowawayCa();
    otherCa = new ThrowawayCa('another CA');
    client = ca.issue('app-client');
    server = new TlsRedisServer(await sparePort(42100, 42200), ca, [
      '--user',
      'default',
      'off',
      '--user',
      'app',
      'on',
      `>${PASSWORD}`,
      '~*',
      '&*',
      '+@all',
    ]);
    await server.start();
    dir = mkdtempSync(join(tmpdir(), 'rs-tls-conf-'));
  }, 30_000);

  afterAll(async () => {
    await server?.dispose();
    ca?.dispose();
    otherCa?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Loads a TOML store `tls` (with `lines`) and one fail-closed limiter on it. */
  function fromToml(lines: string[]): RateSync {
    const file = join(dir, `rate-sync-${Math.random().toString(36).slice(2)}.toml`);
    writeFileSync(
      file,
      [
        '[stores.tls]',
        'engine = "redis"',
        ...lines,
        '',
        '[limiters.api]',
        'store = "tls"',
        'rate_per_second = 1',
        'fail_closed = true',
      ].join('\n'),
    );
    const config = loadConfig({ configFile: file, env: { REDIS_PASSWORD: PASSWORD } });
    return new RateSync(config, { logger: new MemoLogger() });
  }

  const settings = (files: { ca: string; cert?: string; key?: string }): string[] => [
    `url = "rediss://127.0.0.1:${server.port}"`,
    'username = "app"',
    'password = "${REDIS_PASSWORD}"',
    `tls_ca_file = ${JSON.stringify(files.ca)}`,
    ...(files.cert ? [`tls_cert_file = ${JSON.stringify(files.cert)}`] : []),
    ...(files.key ? [`tls_key_file = ${JSON.stringify(files.key)}`] : []),
  ];

  for (const driver of ['ioredis', 'node-redis'] as const) {
    describe(`driver ${driver}`, () => {
      const withDriver = (lines: string[]): string[] => [`driver = "${driver}"`, ...lines];

      it('connects and decides with the CA, certificate and key the TOML names', async () => {
        const rs = fromToml(withDriver(settings({ ca: ca.cert, ...client })));
        await rs.connect();
        expect((await rs.check('api', { key: driver })).allowed).toBe(true);
        expect((await rs.check('api', { key: driver })).allowed).toBe(false);
        await rs.close();
      });

      it('fails the boot, naming the store, without the client certificate', async () => {
        const rs = fromToml(withDriver(settings({ ca: ca.cert })));
        const err = await rs.connect().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreUnavailableError);
        expect(String((err as Error).cause)).toMatch(/Store 'tls': cannot connect to Redis/);
        await rs.close();
      });

      it('refuses a server whose certificate another CA signed', async () => {
        const rs = fromToml(withDriver(settings({ ca: otherCa.cert, ...client })));
        const err = await rs.connect().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreUnavailableError);
        expect(String((err as Error).cause)).toMatch(/Store 'tls'.*certificate/i);
        await rs.close();
      });

      it('fails with a wrong ACL password, never showing it', async () => {
        const wrong = withDriver(settings({ ca: ca.cert, ...client })).map((l) =>
          l.startsWith('password') ? 'password = "not-the-password"' : l,
        );
        const rs = fromToml(wrong);
        const err = await rs.connect().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreUnavailableError);
        const text = `${String(err)} ${String((err as Error).cause)}`;
        expect(text).toMatch(/WRONGPASS|invalid username-password/);
        expect(text).not.toContain('not-the-password');
        await rs.close();
      });
    });
  }

  it('reports certificate files that cannot be read as configuration problems', () => {
    const missing = join(dir, 'no-such-ca.pem');
    const err = (() => {
      try {
        fromToml(settings({ ca: missing, ...client }));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigValidationError);
    expect((err as ConfigValidationError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      `stores.tls.tls_ca_file: cannot use ${JSON.stringify(missing)}: no such file; give a readable PEM file`,
    ]);
  });
});
