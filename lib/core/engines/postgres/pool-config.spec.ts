import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../errors';
import { clientConfig, sslConfig } from './pool-config';

describe('postgres ssl settings', () => {
  let dir: string;
  let ca: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rs-pg-ssl-'));
    ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves TLS to the URL and PGSSLMODE when nothing is given', () => {
    expect(sslConfig('s', { engine: 'postgres' })).toEqual({});
    expect('ssl' in clientConfig('s', { engine: 'postgres', url: 'postgres://h/d' })).toBe(false);
  });

  it('maps ssl_mode as libpq means it', () => {
    expect(sslConfig('s', { engine: 'postgres', sslMode: 'disable' })).toEqual({ ssl: false });
    expect(sslConfig('s', { engine: 'postgres', sslMode: 'require' })).toEqual({
      ssl: { rejectUnauthorized: false },
    });
    expect(sslConfig('s', { engine: 'postgres', sslMode: 'verify-full' })).toEqual({
      ssl: { rejectUnauthorized: true },
    });
    const verifyCa = sslConfig('s', { engine: 'postgres', sslMode: 'verify-ca' }).ssl;
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true });
    // The chain is checked, the host name is not.
    expect((verifyCa as { checkServerIdentity: () => unknown }).checkServerIdentity()).toBe(
      undefined,
    );
  });

  it('reads the CA file, and verifies fully when files are given without ssl_mode', () => {
    const { ssl } = sslConfig('s', { engine: 'postgres', tlsCaFile: ca });
    expect(ssl).toMatchObject({ rejectUnauthorized: true });
    expect(String((ssl as { ca: Buffer }).ca)).toContain('BEGIN CERTIFICATE');
  });

  it('names the option and path of a file gone since validation', () => {
    const gone = join(dir, 'gone.pem');
    expect(() => sslConfig('s', { engine: 'postgres', tlsCaFile: gone })).toThrow(
      new InvalidArgumentError(
        'stores.s.tlsCaFile',
        `cannot read ${JSON.stringify(gone)} (ENOENT); give a PEM file this process can read`,
      ),
    );
  });
});
