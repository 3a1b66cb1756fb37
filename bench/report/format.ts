export { formatRate } from '../rounds';

/** Milliseconds with a unit that keeps three significant digits readable: "420 ns", "3.1 µs", "12.4 ms". */
export function formatMs(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 0.001) return `${Math.round(ms * 1e6)} ns`;
  // Number(...) drops the trailing zeros of a fraction ("1.50" -> 1.5) and keeps "140".
  if (ms < 1) return `${Number((ms * 1000).toPrecision(3))} µs`;
  if (ms < 1000) return `${Number(ms.toPrecision(3))} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A value of `extra`: numbers with thousands separators and at most one decimal. */
export function formatExtra(value: number | string | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) < 10 ? 2 : 1 });
}

/** (max - min) / median of the rounds, as a percentage: how much to trust the median. */
export function formatSpread(rounds: readonly number[] | undefined, median: number): string {
  if (!rounds || rounds.length < 2 || median === 0) return '';
  return `±${Math.round(((Math.max(...rounds) - Math.min(...rounds)) / median) * 50)}%`;
}

/** A markdown table from a header and rows of cells (pipes in cells escaped). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
