import { RateSyncError } from './rate-sync.error';

/** One problem found while validating the configuration. */
export interface ConfigProblem {
  /** Dotted path in TOML spelling, e.g. `limiters.api.rate_per_second`. */
  readonly path: string;
  /** What is wrong and what to do, e.g. `expected a number > 0, got "fast"`. */
  readonly message: string;
  /** The file the value came from, when it came from a file. */
  readonly file?: string;
  /** 1-based line in that file, where known. */
  readonly line?: number;
}

/**
 * The configuration is invalid. Carries every problem found, not just the first, so a user
 * fixes them all in one pass. Nothing was started.
 */
export class ConfigValidationError extends RateSyncError {
  constructor(
    /** Every problem, each with its path and, for a file, the file and line. */
    readonly problems: readonly ConfigProblem[],
  ) {
    super(ConfigValidationError.format(problems));
    this.name = 'ConfigValidationError';
  }

  private static format(problems: readonly ConfigProblem[]): string {
    const lines = problems.map((p) => `  - ${formatConfigProblem(p)}`);
    const n = problems.length;
    return `rate-sync configuration is invalid (${n} problem${n === 1 ? '' : 's'}):\n${lines.join('\n')}`;
  }
}

/** One problem (or warning) as one line: `path: message (file:line)`. */
export function formatConfigProblem(p: ConfigProblem): string {
  const where = p.file ? ` (${p.file}${p.line ? `:${p.line}` : ''})` : '';
  return `${p.path}: ${p.message}${where}`;
}
