import { parseArgs } from 'node:util';
import { RateSync, RateSyncError, type RateSyncLogger } from '../core';
import { loadConfig, type ValidatedConfig } from '../core/config';
import { redactUrl } from '../core/config/redact';
import { errorText } from '../core/error-text';
import { configTables } from './config-tables';

/** Where the CLI writes. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Working directory and environment of the config lookup. @default the process's */
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

const USAGE = `Usage: rate-sync <command> [options]

Commands:
  validate [file]              check a configuration (every problem at once); show its stores and limiters
  state <limiter> [key]        read a key's state in its store (Redis, PostgreSQL)
  reset <limiter> [key]        free one key, or every key of the limiter
  reset-store <store>          free every key of every limiter configured on the store

Options:
  -c, --config <file>  the TOML file (default: RATE_SYNC_CONFIG, ./rate-sync.toml, ./config/rate-sync.toml)
  --json               machine-readable output
  -h, --help           this text

Exit codes: 0 done, 1 the configuration or the store failed, 2 bad usage.`;

/** A failure the CLI reports as is (exit code 1, or 2 for usage). */
class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * Runs the `rate-sync` command line with `argv` (without `node` and the script) and resolves
 * to the exit code. Never calls `process.exit`.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [command, ...args] = positionals;
    if (values.help || command === undefined) {
      io.out(USAGE);
      return values.help ? 0 : 2;
    }
    const ctx = { ...io, json: values.json, configFile: values.config };
    switch (command) {
      case 'validate':
        return validate({ ...ctx, configFile: args[0] ?? values.config });
      case 'state':
      case 'reset':
        if (!args[0]) throw new CliFailure(`${command} needs a limiter id\n\n${USAGE}`, 2);
        return await onStore(ctx, command, args[0], args[1]);
      case 'reset-store':
        if (!args[0]) throw new CliFailure(`reset-store needs a store id\n\n${USAGE}`, 2);
        return await resetStore(ctx, args[0]);
      default:
        throw new CliFailure(`unknown command '${command}'\n\n${USAGE}`, 2);
    }
  } catch (err) {
    const parseError = String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    const message = err instanceof Error ? err.message : String(err);
    if (argv.includes('--json')) io.err(JSON.stringify({ ok: false, error: message }));
    else io.err(`rate-sync: ${message}`);
    return err instanceof CliFailure ? err.exitCode : parseError ? 2 : 1;
  }
}

interface Ctx extends CliIo {
  readonly json: boolean;
  readonly configFile?: string;
}

function load(ctx: Ctx): ValidatedConfig {
  return loadConfig({ configFile: ctx.configFile, cwd: ctx.cwd, env: ctx.env });
}

function validate(ctx: Ctx): number {
  const config = load(ctx); // a ConfigValidationError lists every problem
  const tables = configTables(config);
  ctx.out(ctx.json ? JSON.stringify({ ok: true, ...tables.data }) : tables.text);
  return 0;
}

async function onStore(ctx: Ctx, command: 'state' | 'reset', limiterId: string, key?: string) {
  const config = load(ctx);
  return withStore(ctx, config, config.limiters[limiterId]?.store, limiterId, async (rs) => {
    if (command === 'state') {
      const state = await rs.state(limiterId, key);
      ctx.out(ctx.json ? JSON.stringify(state) : describeState(state));
    } else {
      await rs.reset(limiterId, key);
      const what =
        key === undefined ? `every key of '${limiterId}'` : `key '${key}' of '${limiterId}'`;
      ctx.out(ctx.json ? JSON.stringify({ ok: true, limiter: limiterId, key }) : `reset ${what}`);
    }
  });
}

async function resetStore(ctx: Ctx, storeId: string): Promise<number> {
  const config = load(ctx);
  if (!config.stores[storeId]) {
    const known = Object.keys(config.stores).join(', ');
    throw new CliFailure(`no store '${storeId}' in the configuration (stores: ${known})`);
  }
  const ids = Object.keys(config.limiters).filter((id) => config.limiters[id].store === storeId);
  if (ids.length === 0)
    throw new CliFailure(`no limiter uses store '${storeId}'; nothing to reset`);
  return withStore(ctx, config, storeId, ids[0], async (rs) => {
    for (const id of ids) await rs.reset(id);
    ctx.out(
      ctx.json
        ? JSON.stringify({ ok: true, store: storeId, limiters: ids })
        : `reset every key of ${ids.map((id) => `'${id}'`).join(', ')} in store '${storeId}'`,
    );
  });
}

/**
 * Connects the store of `limiterId` (refusing memory, whose state lives in each application
 * process), runs `fn`, closes. An unreachable store fails within `socket_connect_timeout`.
 */
async function withStore(
  ctx: Ctx,
  config: ValidatedConfig,
  storeId: string | undefined,
  limiterId: string,
  fn: (rs: RateSync) => Promise<void>,
): Promise<number> {
  const stderr: RateSyncLogger = { log: () => undefined, warn: ctx.err, error: ctx.err };
  const rs = new RateSync({ stores: config.stores, limiters: config.limiters }, { logger: stderr });
  try {
    const limiter = rs.limiter(limiterId); // LimiterNotFoundError names the known ids
    const options = config.stores[storeId ?? limiter.store.id];
    if (options.engine === 'memory') {
      throw new CliFailure(
        `store '${limiter.store.id}' is a memory store: its state lives inside each application process, out of the CLI's reach (only Redis and PostgreSQL stores can be read or reset)`,
      );
    }
    try {
      await limiter.store.connect();
    } catch (err) {
      const where = options.url ? ` at ${redactUrl(options.url)}` : '';
      throw new CliFailure(`store '${limiter.store.id}'${where} is unreachable: ${errorText(err)}`);
    }
    await fn(rs);
    return 0;
  } catch (err) {
    if (err instanceof CliFailure || err instanceof RateSyncError) throw err;
    throw new CliFailure(errorText(err));
  } finally {
    await rs.close();
  }
}

function describeState(s: Awaited<ReturnType<RateSync['state']>>): string {
  const lines = [
    `limiter   ${s.limiterId}`,
    `key       ${s.key === '' ? '(shared bucket)' : s.key}`,
    `limit     ${s.limit}`,
    `remaining ${s.remaining}`,
    `reset at  ${new Date(s.resetAt).toISOString()}`,
  ];
  if (s.inFlight !== undefined) lines.push(`in flight ${s.inFlight}`);
  return lines.join('\n');
}
