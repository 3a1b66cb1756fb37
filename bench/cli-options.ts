import { join } from 'node:path';
import { tmpdir } from 'node:os';

/** What `node bench/dist/bench/run.js [options]` was asked to do. */
export interface CliOptions {
  /** Suite names to run (empty: all). */
  readonly suites: string[];
  readonly rounds: number;
  readonly durationMs: number;
  readonly httpDurationMs: number;
  readonly smoke: boolean;
  /** Folder for latest.md and latest.json. */
  readonly outDir: string;
  /** Where the SVG chart goes. */
  readonly chartPath: string;
  readonly list: boolean;
  readonly help: boolean;
  /** A latest.json to render again (markdown and chart) instead of measuring. */
  readonly render?: string;
  /** Only the cases whose name contains this text (a quick look at one row, never a report). */
  readonly caseFilter?: string;
}

export const USAGE = `Usage: node bench/dist/bench/run.js [options]

  --suites a,b        run only these suites (see --list); default: all
  --rounds N          rounds per case; rows quote the median (default 3; smoke 1)
  --duration MS       measured ms per in-process case per round (default 800; smoke 100)
  --http-duration MS  measured ms per HTTP load run (default 5000; smoke 300)
  --smoke             tiny run for CI: numbers mean nothing, output goes to a temp folder,
                      and any error counted in any row fails the run
  --out DIR           where latest.md / latest.json go (default bench/results)
  --chart FILE        where the SVG chart goes (default docs/bench-chart.svg)
  --case TEXT         run only the cases whose name contains TEXT (for a quick look)
  --render FILE       re-render latest.md and the chart from a latest.json, measuring nothing
  --list              list the suites and exit
  --help              this text
`;

/** Parses argv (without node and the script). Throws on an unknown or malformed option. */
export function parseCli(argv: readonly string[], repoRoot: string): CliOptions {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'\n\n${USAGE}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (['smoke', 'list', 'help'].includes(name)) flags.set(name, true);
    else if (
      ['suites', 'rounds', 'duration', 'http-duration', 'out', 'chart', 'render', 'case'].includes(
        name,
      )
    ) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      flags.set(name, value);
    } else throw new Error(`unknown option '--${name}'\n\n${USAGE}`);
  }
  const smoke = flags.has('smoke');
  const text = (name: string): string | undefined => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const int = (name: string, fallback: number): number => {
    const v = text(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`--${name}: expected an integer >= 1, got '${v}'`);
    return n;
  };
  const smokeDir = join(tmpdir(), 'rate-sync-bench-smoke');
  const outDir = text('out') ?? (smoke ? smokeDir : join(repoRoot, 'bench', 'results'));
  return {
    suites: (text('suites') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    rounds: int('rounds', smoke ? 1 : 3),
    durationMs: int('duration', smoke ? 100 : 800),
    httpDurationMs: int('http-duration', smoke ? 300 : 5000),
    smoke,
    outDir,
    chartPath:
      text('chart') ??
      (smoke ? join(smokeDir, 'bench-chart.svg') : join(repoRoot, 'docs', 'bench-chart.svg')),
    list: flags.has('list'),
    help: flags.has('help'),
    render: text('render'),
    caseFilter: text('case'),
  };
}
