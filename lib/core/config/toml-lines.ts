import { pathKey } from './config-path';

/** Finds the 1-based line of a key path in a TOML file, or of its nearest enclosing table. */
export type LineOf = (path: readonly string[]) => number | undefined;

/**
 * Indexes the lines of TOML source by key path, because the parser reports no positions for
 * values. A best-effort scan: table headers (`[limiters.api]`), keys (`rate_per_second = 1`)
 * and dotted keys (`api.limit = 5`) are found, quoted keys included; a key inside a multi-line
 * string or an inline table is attributed to the line where its value starts. A path that is
 * not found falls back to its nearest enclosing table's header.
 */
export function indexTomlLines(text: string): LineOf {
  const lines = new Map<string, number>();
  const remember = (path: readonly string[], line: number): void => {
    const key = pathKey(path);
    if (!lines.has(key)) lines.set(key, line);
  };

  let table: string[] = [];
  let inMultilineString = false;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const wasInString = inMultilineString;
    if ((line.split('"""').length + line.split("'''").length) % 2 === 1) {
      inMultilineString = !inMultilineString;
    }
    if (wasInString || line === '' || line.startsWith('#')) return;
    if (line.startsWith('[')) {
      const parsed = parseKey(line.replace(/^\[\[?/, ''));
      if (parsed) {
        table = parsed.segments;
        remember(table, index + 1);
      }
      return;
    }
    const parsed = parseKey(line);
    if (parsed && parsed.rest.startsWith('=')) remember([...table, ...parsed.segments], index + 1);
  });

  return (path) => {
    for (let i = path.length; i > 0; i--) {
      const line = lines.get(pathKey(path.slice(0, i)));
      if (line !== undefined) return line;
    }
    return undefined;
  };
}

/** Parses a (dotted, possibly quoted) TOML key at the start of `text`. */
function parseKey(text: string): { segments: string[]; rest: string } | undefined {
  const segments: string[] = [];
  let rest = text;
  for (;;) {
    rest = rest.trimStart();
    const quoted = rest.match(/^"((?:[^"\\]|\\.)*)"|^'([^']*)'/);
    const bare = quoted ? null : rest.match(/^[A-Za-z0-9_-]+/);
    if (quoted) {
      segments.push(quoted[2] ?? unescapeBasic(quoted[1]));
      rest = rest.slice(quoted[0].length);
    } else if (bare) {
      segments.push(bare[0]);
      rest = rest.slice(bare[0].length);
    } else {
      return undefined;
    }
    rest = rest.trimStart();
    if (!rest.startsWith('.')) return { segments, rest };
    rest = rest.slice(1);
  }
}

function unescapeBasic(body: string): string {
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    // A TOML escape JSON does not know (\U0001F600, \e): the raw text is close enough to match.
    return body;
  }
}
