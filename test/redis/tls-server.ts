import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs openssl in `cwd`; throws with its output when it fails. */
function openssl(cwd: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A cert and its key, as PEM file paths. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/**
 * A throw-away certificate authority in a temporary directory (made by openssl for one test
 * file), and the certificates it signs for 127.0.0.1 / localhost.
 */
export class ThrowawayCa {
  readonly dir = mkdtempSync(join(tmpdir(), 'rs-ca-'));
  readonly cert = join(this.dir, 'ca.crt');
  private readonly key = join(this.dir, 'ca.key');

  constructor(name = 'rate-sync test CA') {
    openssl(this.dir, [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      this.key,
      '-out',
      this.cert,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
    ]);
  }

  /** Signs a certificate named `name`, valid for 127.0.0.1 and localhost. */
  issue(name: string): CertFiles {
    const [key, csr, cert, ext] = ['key', 'csr', 'crt', 'ext'].map((e) =>
      join(this.dir, `${name}.${e}`),
    );
    writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(this.dir, ['req', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
    openssl(this.dir, [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      this.cert,
      '-CAkey',
      this.key,
      '-CAcreateserial',
      '-out',
      cert,
      '-days',
      '1',
      '-extfile',
      ext,
    ]);
    return { cert, key };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A throw-away `redis-server` that speaks TLS only (`--port 0 --tls-port`), requiring client
 * certificates signed by `ca`, with `extra` arguments (ACL users...). Stopped by its PID.
 */
export class TlsRedisServer {
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'rs-tls-redis-'));
  private readonly client: CertFiles;

  constructor(
    readonly port: number,
    private readonly ca: ThrowawayCa,
    private readonly extra: string[] = [],
  ) {
    this.client = ca.issue('probe-client');
  }

  async start(): Promise<void> {
    const server = this.ca.issue('server');
    const args = [
      '--port',
      '0',
      '--tls-port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--tls-cert-file',
      server.cert,
      '--tls-key-file',
      server.key,
      '--tls-ca-cert-file',
      this.ca.cert,
      '--tls-auth-clients',
      'yes',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      ...this.extra,
    ];
    this.proc = spawn('redis-server', args, { stdio: 'ignore' });
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      if (this.cli('ping').includes('PONG') || this.cli('ping').includes('NOAUTH')) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`TLS redis-server on port ${this.port} did not start`);
  }

  /** redis-cli over TLS with the probe's client certificate; stdout and stderr. */
  cli(...args: string[]): string {
    const r = spawnSync(
      'redis-cli',
      [
        '--tls',
        '--cacert',
        this.ca.cert,
        '--cert',
        this.client.cert,
        '--key',
        this.client.key,
        '-p',
        String(this.port),
        ...args,
      ],
      { encoding: 'utf8' },
    );
    return `${r.stdout}${r.stderr}`;
  }

  async dispose(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p && p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGKILL');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
