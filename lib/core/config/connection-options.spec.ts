import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createCluster } from 'redis';
import type { ConfigLayer } from './config-layer';
import { describeStore } from './describe-store';
import { validateConfig } from './validate';
import { problemsOf } from '../../../test/support/config-problems';

const toml = (store: Record<string, unknown>): ConfigLayer => ({
  data: { stores: { s: store } },
  spelling: 'snake',
});
const code = (store: Record<string, unknown>): ConfigLayer => ({
  data: { stores: { s: store } },
  spelling: 'camel',
});

/** Objects shaped like the drivers' clients (what the validator recognises them by). */
class FakeRedis {
  status = 'ready';
  evalsha(): void {}
  script(): void {}
  duplicate(): void {}
}
const fakeRedis = new FakeRedis();
const fakePool = Object.assign(Object.create({ connect() {}, query() {}, end() {} }), {
  totalCount: 0,
});

describe('store connection options', () => {
  let dir: string;
  let pem: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rs-pem-'));
    pem = join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'not-pem.txt'), 'hello');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('client (code only)', () => {
    it('accepts a client of the store engine, without url', () => {
      const config = validateConfig(code({ engine: 'redis', client: fakeRedis }));
      expect(config.stores.s.client).toBe(fakeRedis);
      expect(validateConfig(code({ engine: 'postgres', client: fakePool })).stores.s.client).toBe(
        fakePool,
      );
    });

    it('rejects a table from a file, and objects of the wrong driver', () => {
      expect(problemsOf(toml({ engine: 'redis', client: { host: 'h' } }))).toEqual([
        'stores.s.client: expected an ioredis Redis or Cluster instance or a node-redis client or cluster, given in code (a configuration file cannot hold one), got a table',
      ]);
      expect(problemsOf(code({ engine: 'redis', client: fakePool }))).toEqual([
        'stores.s.client: expected an ioredis Redis or Cluster instance or a node-redis client or cluster, given in code (a configuration file cannot hold one), got an object without evalsha(), script() and duplicate()',
      ]);
      const single = Object.create({ connect() {}, query() {}, end() {} }) as object;
      expect(problemsOf(code({ engine: 'postgres', client: single }))).toEqual([
        'stores.s.client: expected a pg Pool instance, given in code (a configuration file cannot hold one), got a single pg Client (the store needs a Pool: it runs queries in parallel)',
      ]);
    });

    it('refuses connection options beside it, naming each', () => {
      expect(
        problemsOf(
          code({ engine: 'redis', client: fakeRedis, url: 'redis://h', password: 'secret' }),
        ),
      ).toEqual([
        "stores.s.url: not used with client: the client's own connection options apply; remove url, or remove client to let the store open its own connection",
        "stores.s.password: not used with client: the client's own connection options apply; remove password, or remove client to let the store open its own connection",
      ]);
    });

    it('accepts a node-redis client or cluster, and refuses a driver beside it', () => {
      const nodeRedis = createClient({ url: 'redis://127.0.0.1:1' }); // never connected
      expect(validateConfig(code({ engine: 'redis', client: nodeRedis })).stores.s.client).toBe(
        nodeRedis,
      );
      const cluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] });
      expect(validateConfig(code({ engine: 'redis', client: cluster })).stores.s.client).toBe(
        cluster,
      );
      expect(
        problemsOf(
          code({
            engine: 'redis',
            client: new (class {
              sendCommand = (): number => 1;
            })(),
          }),
        ),
      ).toEqual([
        'stores.s.client: expected an ioredis Redis or Cluster instance or a node-redis client or cluster, given in code (a configuration file cannot hold one), got an object without evalsha(), script() and duplicate()',
      ]);
      expect(
        problemsOf(code({ engine: 'redis', client: nodeRedis, driver: 'node-redis' })),
      ).toEqual([
        "stores.s.driver: not used with client: the client's own connection options apply; remove driver, or remove client to let the store open its own connection",
      ]);
    });

    it('is shown as given, never with its options', () => {
      expect(describeStore({ engine: 'redis', client: fakeRedis })).toEqual({
        engine: 'redis',
        client: 'given in code',
      });
    });
  });

  describe('TLS files', () => {
    it('reads them at validation, keeping the absolute path', () => {
      const config = validateConfig(toml({ engine: 'redis', url: 'rediss://h', tls_ca_file: pem }));
      expect(config.stores.s.tlsCaFile).toBe(pem);
    });

    it('names the path of a file that is missing or not PEM, never its content', () => {
      const missing = join(dir, 'missing.pem');
      expect(
        problemsOf(
          toml({
            engine: 'postgres',
            tls_ca_file: missing,
            tls_cert_file: join(dir, 'not-pem.txt'),
            tls_key_file: dir,
          }),
        ),
      ).toEqual([
        `stores.s.tls_ca_file: cannot use ${JSON.stringify(missing)}: no such file; give a readable PEM file`,
        `stores.s.tls_cert_file: cannot use ${JSON.stringify(join(dir, 'not-pem.txt'))}: it holds no PEM block (-----BEGIN ...); give the file in PEM form`,
        `stores.s.tls_key_file: cannot use ${JSON.stringify(dir)}: EISDIR; give a readable PEM file`,
      ]);
    });

    it('needs rediss:// for redis, a key with a certificate, and TLS not disabled', () => {
      expect(problemsOf(toml({ engine: 'redis', url: 'redis://h', tls_cert_file: pem }))).toEqual([
        'stores.s.tls_cert_file: needs TLS, and url is a redis:// URL; write rediss:// to connect with TLS',
        'stores.s.tls_key_file: a client certificate needs both tls_cert_file and tls_key_file',
      ]);
      expect(
        problemsOf(toml({ engine: 'postgres', ssl_mode: 'disable', tls_ca_file: pem })),
      ).toEqual([
        'stores.s.tls_ca_file: not used with ssl_mode = "disable"; set ssl_mode to "verify-full" (or remove the file)',
      ]);
      expect(
        problemsOf(
          toml({
            engine: 'postgres',
            url: 'postgres://h/d?sslmode=require',
            ssl_mode: 'verify-full',
          }),
        ),
      ).toEqual([
        "stores.s.ssl_mode: not used with an sslmode in url (the URL's would win); keep one of them",
      ]);
      expect(problemsOf(toml({ engine: 'postgres', ssl_mode: 'prefer' }))).toEqual([
        'stores.s.ssl_mode: expected one of "disable", "require", "verify-ca", "verify-full", got "prefer"',
      ]);
    });
  });

  describe('sentinels', () => {
    it('takes sentinels with a master name, and the passwords as secrets', () => {
      const config = validateConfig(
        toml({
          engine: 'redis',
          sentinels: ['127.0.0.1:26379', 's2:26380'],
          sentinel_name: 'mymaster',
          sentinel_password: 'sentinel-secret',
          username: 'app',
          password: 'redis-secret',
        }),
      );
      expect(config.stores.s).toMatchObject({
        sentinels: ['127.0.0.1:26379', 's2:26380'],
        sentinelName: 'mymaster',
        username: 'app',
      });
      expect(JSON.stringify(describeStore(config.stores.s))).not.toMatch(/secret/);
    });

    it('needs both sentinels and sentinel_name, and not with cluster_nodes', () => {
      expect(problemsOf(toml({ engine: 'redis', sentinels: ['h:26379'] }))).toEqual([
        'stores.s.sentinel_name: required with sentinels: the name of the master as the Sentinels know it (sentinel monitor <name> ...)',
      ]);
      expect(
        problemsOf(
          toml({
            engine: 'redis',
            cluster_nodes: ['h:7000'],
            sentinels: ['h:26379'],
            sentinel_name: 'm',
          }),
        ),
      ).toEqual([
        'stores.s.sentinels: not used with cluster_nodes: a Redis Cluster fails over by itself; keep one',
      ]);
      expect(
        problemsOf(toml({ engine: 'redis', sentinels: ['nohost'], sentinel_name: 'm' })),
      ).toEqual([
        'stores.s.sentinels: expected a non-empty array of "host:port" strings, but one item is "nohost"',
      ]);
    });
  });
});
