import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from '../errors';
import { discoverConfigFile } from './discover';

describe('discoverConfigFile', () => {
  let cwd: string;

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'rate-sync-discover-'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  const touch = (relative: string): string => {
    const path = join(cwd, relative);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '');
    return path;
  };
  const problemOf = (fn: () => unknown): { path: string; message: string } => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigValidationError);
      return (error as ConfigValidationError).problems[0];
    }
    throw new Error('expected a ConfigValidationError');
  };

  it('finds nothing when no file exists', () => {
    expect(discoverConfigFile({ cwd, env: {} })).toBeUndefined();
  });

  it('prefers ./rate-sync.toml over ./config/rate-sync.toml', () => {
    const root = touch('rate-sync.toml');
    touch('config/rate-sync.toml');
    expect(discoverConfigFile({ cwd, env: {} })).toEqual({ path: root, source: 'default' });
  });

  it('falls back to ./config/rate-sync.toml', () => {
    const nested = touch('config/rate-sync.toml');
    expect(discoverConfigFile({ cwd, env: {} })).toEqual({ path: nested, source: 'default' });
  });

  it('prefers RATE_SYNC_CONFIG over the default locations, relative to cwd', () => {
    touch('rate-sync.toml');
    const custom = touch('custom/limits.toml');
    const env = { RATE_SYNC_CONFIG: 'custom/limits.toml' };
    expect(discoverConfigFile({ cwd, env })).toEqual({ path: custom, source: 'env' });
  });

  it('ignores an empty RATE_SYNC_CONFIG', () => {
    const root = touch('rate-sync.toml');
    expect(discoverConfigFile({ cwd, env: { RATE_SYNC_CONFIG: '' } })?.path).toBe(root);
  });

  it('prefers the configFile option over RATE_SYNC_CONFIG', () => {
    touch('from-env.toml');
    const explicit = touch('explicit.toml');
    const env = { RATE_SYNC_CONFIG: join(cwd, 'from-env.toml') };
    expect(discoverConfigFile({ cwd, env, configFile: 'explicit.toml' })).toEqual({
      path: explicit,
      source: 'option',
    });
  });

  it('uses no file at all with configFile: false', () => {
    touch('rate-sync.toml');
    const env = { RATE_SYNC_CONFIG: join(cwd, 'rate-sync.toml') };
    expect(discoverConfigFile({ cwd, env, configFile: false })).toBeUndefined();
  });

  it('rejects a configFile that does not exist, naming the path', () => {
    touch('rate-sync.toml');
    const problem = problemOf(() => discoverConfigFile({ cwd, env: {}, configFile: 'nope.toml' }));
    expect(problem.path).toBe('configFile');
    expect(problem.message).toContain(join(cwd, 'nope.toml'));
    expect(problem.message).toContain('does not exist');
  });

  it('rejects a RATE_SYNC_CONFIG that does not exist instead of falling back', () => {
    touch('rate-sync.toml');
    const env = { RATE_SYNC_CONFIG: '/no/such/rate-sync.toml' };
    const problem = problemOf(() => discoverConfigFile({ cwd, env }));
    expect(problem.path).toBe('RATE_SYNC_CONFIG');
    expect(problem.message).toContain('/no/such/rate-sync.toml');
  });

  it('rejects a directory and an empty path', () => {
    mkdirSync(join(cwd, 'dir'));
    expect(problemOf(() => discoverConfigFile({ cwd, configFile: 'dir' })).message).toContain(
      'is a directory',
    );
    expect(problemOf(() => discoverConfigFile({ cwd, configFile: ' ' })).message).toContain(
      'empty string',
    );
  });
});
