/**
 * Printing results: stdout only, JSON for machines or aligned text for people. Text output may
 * carry a partner's file names and server messages, so every line and table cell goes through
 * terminalSafe: nothing printed here can break a line or send a control sequence.
 */
import { terminalSafe } from '../terminal-text.js';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printLines(lines: string[]): void {
  if (lines.length) process.stdout.write(lines.map(terminalSafe).join('\n') + '\n');
}

/** A plain aligned table; the last column is not padded. */
export function table(header: string[], rows: string[][]): string[] {
  // Escaped before measuring, so the columns line up with what is shown.
  const all = [header, ...rows].map((r) => r.map(terminalSafe));
  const widths = header.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  return all.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length)))
      .join('  ')
      .trimEnd(),
  );
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
