/** Formatting of the results: an aligned console table and a markdown table for BENCHMARKS.md. */

export type Cell = string | number;

/** Left-align the first column, right-align the rest (numbers). */
export function textTable(head: string[], rows: Cell[][]): string[] {
  const all = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(all[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)];
}

export function markdownTable(head: string[], rows: Cell[][]): string[] {
  const esc = (c: Cell) => String(c).replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
}

export function fixed(n: number | undefined, digits = 2): string {
  return n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits);
}

/** 1234567 → "1,234,567" (en-US grouping, independent of the machine's locale). */
export function grouped(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '—' : Math.round(n).toLocaleString('en-US');
}

export function mib(kib: number | undefined): string {
  return kib === undefined ? '—' : (kib / 1024).toFixed(0);
}
