import { ConfigValidationError, type ConfigProblem } from '../errors';
import { formatPath } from './config-path';

/** Where a problem is in a file, when it came from one. */
export interface ProblemLocation {
  readonly file?: string;
  readonly line?: number;
}

/**
 * Collects every problem found, so validation reports them all at once, and the warnings: what
 * loads but is ignored (a parameter of the other algorithm, as the Python library ignores it).
 */
export class ProblemList {
  private readonly items: ConfigProblem[] = [];
  private readonly ignored: ConfigProblem[] = [];

  /** Number of problems so far; compare before and after a step to see if it found any. */
  get count(): number {
    return this.items.length;
  }

  /** The warnings so far, in the order found. */
  get warnings(): readonly ConfigProblem[] {
    return [...this.ignored];
  }

  /** Records a problem at `path` (keys as the user spelled them). */
  add(path: readonly string[] | string, message: string, where: ProblemLocation = {}): void {
    this.items.push(entry(path, message, where));
  }

  /** Records a warning at `path`: the configuration loads, and this part of it has no effect. */
  warn(path: readonly string[] | string, message: string, where: ProblemLocation = {}): void {
    this.ignored.push(entry(path, message, where));
  }

  /** @throws ConfigValidationError listing every problem, when there is at least one. */
  throwIfAny(): void {
    if (this.items.length > 0) throw new ConfigValidationError([...this.items]);
  }
}

function entry(
  path: readonly string[] | string,
  message: string,
  where: ProblemLocation,
): ConfigProblem {
  return {
    path: typeof path === 'string' ? path : formatPath(path),
    message,
    ...(where.file !== undefined ? { file: where.file } : {}),
    ...(where.file !== undefined && where.line !== undefined ? { line: where.line } : {}),
  };
}
