import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import type { ServerStats } from './one-in-flight';

/**
 * A private `redis-server` on a spare port, so that the commands counted are ours alone; or,
 * when the binary is missing, the bench Redis (then other clients' commands may be counted).
 */
export async function privateRedis(
  fallbackUrl: string,
): Promise<{ url: string; label: string; stop(): void }> {
  const port = 20000 + Math.floor(Math.random() * 5000);
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  let started = false;
  proc.once('error', () => undefined); // no redis-server binary: fall back below
  for (let i = 0; i < 100 && !started && proc.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => undefined);
    started = await probe.connect().then(
      () => true,
      () => false,
    );
    probe.disconnect();
  }
  if (started)
    return {
      url: `redis://127.0.0.1:${port}`,
      label: 'private redis-server',
      stop: () => proc.kill('SIGKILL'),
    };
  proc.kill('SIGKILL');
  return { url: fallbackUrl, label: 'shared bench Redis', stop: () => undefined };
}

/**
 * Server time of the scripts a client runs (EVAL, EVALSHA and their read-only forms, FCALL),
 * from `INFO commandstats` before and after a run: what Redis itself spent, the commands the
 * scripts call included. Read as a difference, so nothing is reset on the server.
 */
export function scriptTime(client: Redis): ServerStats {
  let before = { micros: 0, calls: 0 };
  const read = async (): Promise<{ micros: number; calls: number }> => {
    const info = await client.info('commandstats');
    const scripts =
      /^cmdstat_(evalsha|eval|evalsha_ro|eval_ro|fcall|fcall_ro):calls=(\d+),usec=(\d+)/gm;
    let micros = 0;
    let calls = 0;
    for (const m of info.matchAll(scripts)) {
      calls += Number(m[2]);
      micros += Number(m[3]);
    }
    return { micros, calls };
  };
  return {
    reset: async () => {
      before = await read();
    },
    read: async () => {
      const after = await read();
      return { micros: after.micros - before.micros, calls: after.calls - before.calls };
    },
  };
}
