import type { BenchRow } from '../suite';
import { isOurs, type BenchReport, type SuiteResult } from './bench-report';
import { formatExtra, formatMs, formatRate, formatSpread, table } from './format';

/** latest.md: the machine, the command, one table per suite, the ratios, and the goals. */
export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const parts = [
    '# Benchmark results',
    '',
    `Measured ${report.startedAt} in ${Math.round(report.seconds)} s` +
      (report.options.smoke ? ' — **smoke run: the numbers mean nothing**' : '') +
      '.',
    '',
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}`,
    `- Node.js ${m.node}`,
    `- Load average (1 min): ${report.loadAverage.start.toFixed(2)} at the start, ${report.loadAverage.end.toFixed(2)} at the end ` +
      `(a load above ${m.cores} means other work was competing for the CPU)`,
    `- Command: \`${report.command}\`` +
      (report.code
        ? `, at commit ${report.code.commit}${report.code.libDirty ? ' with uncommitted changes in lib/' : ''}`
        : ''),
    `- ${report.options.rounds} round(s) per entry, interleaved; each row is the median of its rounds ` +
      '(± is half the spread between the best and worst round, relative to the median). ' +
      'Errors are added up over all rounds.',
    '',
  ];
  for (const suite of report.suites) parts.push(renderSuite(suite), '');
  parts.push(renderGoals(report.suites));
  return parts.join('\n') + '\n';
}

function renderSuite(suite: SuiteResult): string {
  const head = [`## ${suite.name}`, '', suite.description, ''];
  if (suite.status === 'skipped') return [...head, `**Skipped:** ${suite.reason}`].join('\n');
  if (suite.status === 'failed') return [...head, `**Failed:** ${suite.reason}`].join('\n');
  const extras = [...new Set(suite.rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const rows = suite.rows.map((r) => [
    r.case,
    r.contender,
    String(r.concurrency),
    formatRate(r.opsPerSec),
    formatSpread(r.rounds, r.opsPerSec),
    formatMs(r.p50Ms),
    formatMs(r.p99Ms),
    String(r.errors),
    ...extras.map((k) => formatExtra(r.extra?.[k])),
  ]);
  const out = [
    ...head,
    table(
      ['case', 'contender', 'in flight', 'ops/s', '±', 'p50', 'p99', 'errors', ...extras],
      rows,
    ),
  ];
  const by = suite.compareBy;
  const ratios = renderRatios(suite.rows, by);
  const what = by
    ? `${by.extra}, ${by.lowerIsBetter ? 'lower' : 'higher'} is better`
    : 'median ops/s';
  if (ratios) out.push('', `### ${suite.name}: ours ÷ each other contender (${what})`, '', ratios);
  return out.join('\n');
}

/** Every rate-sync row against every other contender of the same case and concurrency. */
function renderRatios(rows: readonly BenchRow[], by: SuiteResult['compareBy']): string | undefined {
  const value = (r: BenchRow): number => (by ? Number(r.extra?.[by.extra]) : r.opsPerSec);
  const better = (ratio: number): boolean => (by?.lowerIsBetter ? ratio <= 1 : ratio >= 1);
  const lines: string[][] = [];
  for (const ours of rows.filter(isOurs)) {
    const others = rows.filter(
      (r) => !isOurs(r) && r.case === ours.case && r.concurrency === ours.concurrency,
    );
    for (const peer of others) {
      const ratio = value(peer) ? value(ours) / value(peer) : NaN;
      lines.push([
        ours.case,
        String(ours.concurrency),
        ours.contender,
        peer.contender,
        Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a',
        better(ratio) ? 'better' : '**worse**',
      ]);
    }
  }
  if (lines.length === 0) return undefined;
  return table(['case', 'in flight', 'ours', 'vs', 'ratio', ''], lines);
}

function renderGoals(suites: readonly SuiteResult[]): string {
  const lines = suites.flatMap((s) =>
    s.goals.map((g) => [s.name, g.goal, g.met ? 'met' : '**missed**', g.detail]),
  );
  if (lines.length === 0) return '## Goals\n\nNo goal was checked in this run.';
  return ['## Goals', '', table(['suite', 'goal', 'verdict', 'numbers'], lines)].join('\n');
}
