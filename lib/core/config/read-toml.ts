import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { ConfigValidationError } from '../errors';

/** A TOML file, read and parsed. */
export interface TomlFile {
  /** The path it was read from. */
  readonly path: string;
  /** The source text, for line numbers. */
  readonly text: string;
  /** The parsed data (no env interpolation yet). */
  readonly data: Record<string, unknown>;
}

/**
 * Reads and parses a TOML file.
 *
 * @throws ConfigValidationError when the file cannot be read or is not valid TOML, with the file
 *   and line. The parser's excerpt of the offending line is left out: it may hold a secret.
 */
export function readTomlFile(path: string): TomlFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigValidationError([
      { path: '(file)', message: `cannot read the config file (${code})`, file: path },
    ]);
  }
  try {
    return { path, text, data: parse(text) as Record<string, unknown> };
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.split('\n')[0].replace(/^Invalid TOML document:\s*/, '');
    throw new ConfigValidationError([
      {
        path: '(toml syntax)',
        message: `${reason} (column ${error.column}); fix the TOML syntax`,
        file: path,
        line: error.line,
      },
    ]);
  }
}
