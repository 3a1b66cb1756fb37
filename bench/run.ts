/**
 * The bench runner: `npm run bench` (after compiling bench/ with `tsc -p bench/tsconfig.json`).
 * Runs the suites one after the other, prints a markdown table per suite, writes
 * `latest.md` and `latest.json`, and draws the SVG chart. Exits non-zero when a suite fails,
 * so the CI smoke run (`--smoke`) catches a harness that rotted; a suite whose server is not
 * reachable is skipped with a line saying so.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseCli, USAGE, type CliOptions } from './cli-options';
import { discoverSuites } from './discover-suites';
import { describeCode, describeMachine } from './machine';
import type { BenchReport, SuiteResult } from './report/bench-report';
import { renderChart } from './report/chart';
import { renderMarkdown } from './report/markdown';
import type { BenchOptions, BenchSuite } from './suite';

/** bench/dist/bench/run.js -> the repository root. */
const REPO_ROOT = resolve(__dirname, '..', '..', '..');

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2), REPO_ROOT);
  if (cli.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cli.render) {
    writeReport(JSON.parse(readFileSync(cli.render, 'utf8')) as BenchReport, cli);
    return 0;
  }
  const all = discoverSuites();
  if (cli.list) {
    for (const s of all) process.stdout.write(`${s.name.padEnd(18)} ${s.description}\n`);
    return 0;
  }
  const unknown = cli.suites.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length) {
    throw new Error(
      `unknown suite(s) ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`,
    );
  }
  const chosen = cli.suites.length ? all.filter((s) => cli.suites.includes(s.name)) : all;
  const started = Date.now();
  const code = describeCode();
  const loadAtStart = loadavg()[0];
  const results: SuiteResult[] = [];
  for (const suite of chosen) results.push(await runSuite(suite, cli));

  const report: BenchReport = {
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    command: commandLine(),
    machine: describeMachine(),
    code,
    loadAverage: { start: loadAtStart, end: loadavg()[0] },
    options: {
      rounds: cli.rounds,
      durationMs: cli.durationMs,
      httpDurationMs: cli.httpDurationMs,
      smoke: cli.smoke,
    },
    suites: results,
  };
  writeReport(report, cli);
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length) log(`FAILED: ${failed.map((r) => r.name).join(', ')}`);
  // In a smoke run an error in any row means the harness (or what it measures) is broken.
  const erring = cli.smoke ? results.flatMap((r) => r.rows).filter((row) => row.errors > 0) : [];
  for (const row of erring)
    log(`ERRORS: ${row.suite} · ${row.case} · ${row.contender}: ${row.errors}`);
  return failed.length || erring.length ? 1 : 0;
}

/** Prints the markdown and writes latest.md, latest.json (unless re-rendering it) and the chart. */
function writeReport(report: BenchReport, cli: CliOptions): void {
  const markdown = renderMarkdown(report);
  process.stdout.write(`\n${markdown}`);
  mkdirSync(cli.outDir, { recursive: true });
  const written = [join(cli.outDir, 'latest.md'), cli.chartPath];
  writeFileSync(written[0], markdown);
  if (!cli.render) {
    written.push(join(cli.outDir, 'latest.json'));
    writeFileSync(written[2], JSON.stringify(report, null, 2) + '\n');
  }
  mkdirSync(dirname(cli.chartPath), { recursive: true });
  writeFileSync(cli.chartPath, renderChart(report));
  log(`wrote ${written.map((p) => relative(process.cwd(), p) || p).join(', ')}`);
}

async function runSuite(suite: BenchSuite, cli: CliOptions): Promise<SuiteResult> {
  const base = {
    name: suite.name,
    description: suite.description,
    rows: [],
    goals: [],
    compareBy: suite.compareBy,
  };
  const t0 = Date.now();
  const seconds = (): number => (Date.now() - t0) / 1000;
  const available = suite.available
    ? await suite.available().catch((err: unknown) => describe(err))
    : true;
  if (available !== true) {
    log(`${suite.name}: skipped (${available})`);
    return { ...base, status: 'skipped', reason: available, seconds: seconds() };
  }
  log(`${suite.name}: running`);
  const options: BenchOptions = {
    durationMs: cli.durationMs,
    rounds: cli.rounds,
    smoke: cli.smoke,
    httpDurationMs: cli.httpDurationMs,
    caseFilter: cli.caseFilter,
    progress: (line) => log(`  ${line}`),
  };
  try {
    const rows = await suite.run(options);
    const goals = suite.goals?.(rows) ?? [];
    log(`${suite.name}: done in ${seconds().toFixed(0)} s`);
    return { ...base, status: 'ok', rows, goals, seconds: seconds() };
  } catch (err) {
    log(`${suite.name}: FAILED: ${describe(err)}`);
    if (err instanceof Error && err.stack) log(err.stack);
    return { ...base, status: 'failed', reason: describe(err), seconds: seconds() };
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function commandLine(): string {
  const script = relative(REPO_ROOT, process.argv[1]);
  const flags = process.execArgv.length ? `${process.execArgv.join(' ')} ` : '';
  return `node ${flags}${script} ${process.argv.slice(2).join(' ')}`.trim();
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log(describe(err));
    process.exitCode = 2;
  },
);
