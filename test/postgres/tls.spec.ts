import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { RateSync, StoreUnavailableError, type StoreOptions } from '../../lib/core';
import { describeIfPresent } from '../support/needs-server';
import { captureLogger } from '../support/postgres';
import { ThrowawayCa } from '../redis/tls-server';

/**
 * A private PostgreSQL that accepts TLS connections only (`hostssl` in its pg_hba.conf, every
 * plain TCP connection refused), with a certificate from a throw-away CA: a store with
 * `ssl_mode = "verify-full"` and that CA as `tls_ca_file` decides; without TLS, or trusting
 * another CA, it cannot connect (and a fail_closed limiter says so at startup).
 */
const asRoot = userInfo().uid === 0;
const tools = ['initdb', 'pg_ctl', 'openssl'].every(
  (t) => spawnSync(t, [t === 'openssl' ? 'version' : '--version']).status === 0,
);

function as(cmd: string, args: string[]): void {
  if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' });
  else execFileSync(cmd, args, { stdio: 'pipe' });
}

describeIfPresent(
  'postgres over TLS only, with the CA from tls_ca_file',
  () => {
    // Made in beforeAll, so that a skipped suite runs nothing.
    let ca: ThrowawayCa;
    let otherCa: ThrowawayCa;
    let dir: string;
    let data: string;
    const port = 42000 + Math.floor(Math.random() * 5000);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let started = false;

    beforeAll(() => {
      ca = new ThrowawayCa();
      otherCa = new ThrowawayCa('another CA');
      dir = mkdtempSync('/tmp/rs-pgtls-');
      data = join(dir, 'data');
      const issued = ca.issue('127.0.0.1');
      const [cert, key] = [join(dir, 'server.crt'), join(dir, 'server.key')];
      copyFileSync(issued.cert, cert);
      copyFileSync(issued.key, key);
      chmodSync(key, 0o600);
      if (asRoot) {
        const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
        for (const f of [dir, cert, key]) chownSync(f, uid, -1);
      }
      as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
      writeFileSync(
        join(data, 'pg_hba.conf'),
        'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n',
      );
      if (asRoot) {
        const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
        chownSync(join(data, 'pg_hba.conf'), uid, -1);
      }
      const settings = [
        `-p ${port}`,
        `-k ${dir}`,
        '-c listen_addresses=127.0.0.1',
        '-c ssl=on',
        `-c ssl_cert_file=${cert}`,
        `-c ssl_key_file=${key}`,
      ].join(' ');
      as('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', settings, '-w', 'start']);
      started = true;
    }, 60_000);

    afterAll(() => {
      if (started) {
        try {
          as('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
        } catch {
          // already gone
        }
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
      ca?.dispose();
      otherCa?.dispose();
    });

    const open = async (store: Partial<StoreOptions>): Promise<RateSync> => {
      const rs = new RateSync(
        {
          stores: {
            pg: { engine: 'postgres', url, socketConnectTimeout: 2, ...store },
          },
          limiters: { api: { store: 'pg', ratePerSecond: 1, burst: 2, failClosed: true } },
        },
        { logger: captureLogger() },
      );
      try {
        await rs.connect();
      } catch (err) {
        await rs.close();
        throw err;
      }
      return rs;
    };

    it('decides over TLS, the server verified against tls_ca_file', async () => {
      const rs = await open({ sslMode: 'verify-full', tlsCaFile: ca.cert });
      try {
        expect((await rs.tryAcquire('api', { key: 'a' }))?.result.failedOpen).toBeUndefined();
        expect(await rs.tryAcquire('api', { key: 'a' })).not.toBeNull();
        expect(await rs.tryAcquire('api', { key: 'a' })).toBeNull();
      } finally {
        await rs.close();
      }
    });

    it('cannot connect without TLS (the server refuses plain connections)', async () => {
      await expect(open({ sslMode: 'disable' })).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('refuses a server whose certificate another CA signed', async () => {
      const err = await open({ sslMode: 'verify-full', tlsCaFile: otherCa.cert }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(String((err as Error).message)).toMatch(/certificate|self.signed|verify/i);
    });
  },
  tools ? undefined : 'initdb / pg_ctl / openssl are not on the PATH',
  'Install PostgreSQL server binaries and openssl',
);
