import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem, type as osType } from 'node:os';

/** What the numbers were measured on. */
export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
}

export function describeMachine(): Machine {
  return {
    cpuModel: lscpuModel() ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${osType()} ${release()}`,
  };
}

/** The commit measured, and whether lib/ differed from it (uncommitted changes). */
export function describeCode(): { commit: string; libDirty: boolean } {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return {
      commit: git('rev-parse', '--short', 'HEAD'),
      libDirty: git('status', '--porcelain', '--', 'lib') !== '',
    };
  } catch {
    return { commit: 'unknown (not a git checkout)', libDirty: false }; // a tarball: nothing to tell
  }
}

/** `lscpu`'s "Model name", which is what the docs quote; absent where lscpu is missing. */
function lscpuModel(): string | undefined {
  try {
    const out = execFileSync('lscpu', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /^Model name:\s*(.+)$/m.exec(out)?.[1].trim();
  } catch {
    return undefined; // not Linux, or util-linux missing: fall back to os.cpus()
  }
}
