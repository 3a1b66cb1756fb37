import { createHash } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { RedisClient } from './redis-connection';

/** A Lua script and its SHA-1, the name EVALSHA runs it by. */
export interface LuaScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
}

/** Names a Lua source and computes its SHA-1 once. */
export function luaScript(name: string, lua: string): LuaScript {
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Runs `script` by EVALSHA, and by EVAL when the server answers NOSCRIPT (a restarted server,
 * a failover to a replica that never saw SCRIPT LOAD, a `SCRIPT FLUSH`). EVAL also caches the
 * script, so the next call is an EVALSHA again. One round trip in the normal case.
 */
export function runScript(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  return client.evalsha(script.sha, keys.length, ...keys, ...args).catch((err: Error) => {
    if (!isNoScript(err)) throw err;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  });
}

/** Loads the scripts on the server, or on every master of a cluster. */
export async function loadScripts(
  client: RedisClient,
  isCluster: boolean,
  scripts: readonly LuaScript[],
): Promise<void> {
  const nodes = isCluster ? (client as Cluster).nodes('master') : [client];
  await Promise.all(
    nodes.flatMap((node) => scripts.map((s) => node.script('LOAD', s.lua) as Promise<unknown>)),
  );
}

function isNoScript(err: Error): boolean {
  return typeof err?.message === 'string' && err.message.startsWith('NOSCRIPT');
}
