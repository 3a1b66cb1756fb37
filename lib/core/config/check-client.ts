import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Checked } from './coerce';
import { describeValue } from './describe-value';
import { isTable } from './interpolate';

/** What each networked engine accepts as `client`. */
const CLIENT_KINDS: Record<string, string> = {
  redis: 'an ioredis Redis or Cluster instance or a node-redis client or cluster',
  postgres: 'a pg Pool instance',
};

/**
 * A `client` value: an object of the application's driver, recognised by the methods the
 * engine calls (the application may load its own copy of the driver, so `instanceof` would
 * refuse a good client). Never described beyond its kind: its options hold credentials.
 */
export function checkClient(value: unknown, engine: string | undefined): Checked {
  const expected = (engine && CLIENT_KINDS[engine]) || Object.values(CLIENT_KINDS).join(' or ');
  const fail = (got: string): Checked => ({
    ok: false,
    message: `expected ${expected}, given in code (a configuration file cannot hold one), got ${got}`,
  });
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isTable(value)) {
    return fail(describeValue(value));
  }
  const has = (name: string): boolean =>
    typeof (value as Record<string, unknown>)[name] === 'function';
  if (engine === 'redis') {
    // node-redis (client or cluster): sendCommand() and isReady; ioredis: evalsha(), script() and a status string.
    const nodeRedis = has('sendCommand') && has('duplicate') && 'isReady' in value;
    if (!nodeRedis && !(has('evalsha') && has('duplicate') && has('script'))) {
      return fail('an object without evalsha(), script() and duplicate()');
    }
  }
  if (engine === 'postgres') {
    if (!(has('connect') && has('query') && has('end'))) {
      return fail('an object without connect(), query() and end()');
    }
    if (!('totalCount' in value)) {
      return fail('a single pg Client (the store needs a Pool: it runs queries in parallel)');
    }
  }
  return { ok: true, value };
}

/** Largest PEM file read (a certificate chain is a few kB; this stops a path to a huge file). */
const MAX_PEM_BYTES = 1 << 20;

/**
 * A PEM file path: resolved against the working directory, read now so that a file that is
 * missing, unreadable or not PEM is a configuration problem naming the path, not a TLS error
 * at connect. Its content is never shown.
 */
export function checkPemFile(path: string): Checked {
  const absolute = resolve(path);
  let text: string;
  try {
    const data = readFileSync(absolute);
    if (data.length > MAX_PEM_BYTES) {
      return fail(path, `it is larger than ${MAX_PEM_BYTES} bytes; give a PEM file`);
    }
    text = data.toString('latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return fail(path, `${code === 'ENOENT' ? 'no such file' : code}; give a readable PEM file`);
  }
  if (!text.includes('-----BEGIN ')) {
    return fail(path, 'it holds no PEM block (-----BEGIN ...); give the file in PEM form');
  }
  return { ok: true, value: absolute };
}

function fail(path: string, why: string): Checked {
  return { ok: false, message: `cannot use ${JSON.stringify(path)}: ${why}` };
}
