/**
 * The PostgreSQL CSV fast path: one `COPY (SELECT …) TO STDOUT` whose select list renders every
 * cell as exactly the text ferry's csv encoder would write, so the server can produce the file.
 *
 * COPY's CSV quoting matches the encoder's rule (quote when the field holds the delimiter, a quote,
 * CR or LF; NULL '' leaves NULL as an empty unquoted field and writes an empty string as `""`), so
 * only the text of each cell has to be produced in SQL.
 */
import type { ResolvedColumn } from '../formats/types.js';
import type { CsvExportOptions } from './types.js';

/** PostgreSQL quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** PostgreSQL standard string literal (standard_conforming_strings is set on the session). */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Why these options cannot go through COPY, or undefined when they can. Core may call this to
 * decide eligibility before it asks for the fast path.
 */
export function pgCsvUnsupported(options: Pick<CsvExportOptions, 'columns' | 'delimiter'>): string | undefined {
  const d = options.delimiter;
  // COPY takes a single one-byte delimiter that is not the quote or a line break.
  if (d.length !== 1 || d.charCodeAt(0) > 0x7f || d === '"' || d === '\r' || d === '\n' || d === '\0') {
    return `delimiter ${JSON.stringify(d)} is not possible with COPY`;
  }
  for (const c of options.columns) {
    const why = columnUnsupported(c);
    if (why) return `column "${c.key}": ${why}`;
  }
  return undefined;
}

function columnUnsupported(c: ResolvedColumn): string | undefined {
  if (c.format !== undefined) return 'a custom date format is rendered by ferry only';
  if (c.decimals !== undefined) return 'fixed decimals are rendered by ferry only';
  if (c.nullText !== undefined && c.nullText !== '') return 'a NULL text other than the empty string is rendered by ferry only';
  if (c.type === 'float' || c.type === 'bytes') return `type ${c.type} is rendered by ferry only`;
  return undefined;
}

/** Microseconds as `.ffffff` without trailing zeros, or '' when whole. */
function fractionSql(ts: string): string {
  return `coalesce('.' || nullif(rtrim(to_char(${ts}, 'US'), '0'), ''), '')`;
}

/**
 * `±HH:MM` of a timestamptz in the session zone, with `:SS` for the historical local-mean-time
 * offsets that are not whole minutes (to_char's TZM drops those seconds).
 */
function offsetSql(ts: string): string {
  const secs = `extract(timezone from ${ts})::int`;
  return `to_char(${ts}, 'TZH:TZM') || CASE WHEN ${secs} % 60 <> 0 THEN ':' || lpad((abs(${secs}) % 60)::text, 2, '0') ELSE '' END`;
}

/** Local date, time and fraction of a timestamptz in the session zone, then its offset. */
function instantSql(ts: string): string {
  return `to_char(${ts}, 'YYYY-MM-DD"T"HH24:MI:SS') || ${fractionSql(ts)} || ${offsetSql(ts)}`;
}

/** The select-list expression that renders one column as the csv encoder's canonical text. */
export function columnExpression(c: ResolvedColumn, zone: string): string {
  const col = `q.${quoteIdent(c.source)}`;
  switch (c.type) {
    case 'bool': {
      const [t, f] = c.bool ?? ['true', 'false'];
      const b = `(${col})::boolean`;
      return `CASE WHEN ${b} THEN ${quoteLiteral(t)} WHEN NOT ${b} THEN ${quoteLiteral(f)} END`;
    }
    case 'date':
      return `to_char((${col})::date, 'YYYY-MM-DD')`;
    case 'timestamptz':
      // The session TimeZone is the config zone, so to_char prints local time and its offset.
      return instantSql(`(${col})::timestamptz`);
    case 'timestamp':
      // A wall time is first placed in the config zone (AT TIME ZONE resolves DST gaps and
      // overlaps the way ferry's encoder does: a skipped 02:30 becomes 03:30 daylight time, a
      // repeated 01:30 is standard time), then printed like a timestamptz.
      return instantSql(`((${col})::timestamp AT TIME ZONE ${quoteLiteral(zone)})`);
    default:
      // string, int, decimal, json, unknown: PostgreSQL's own output text, which is also what
      // the row path hands to the encoder (numeric keeps its digits, int8 is exact).
      return `(${col})::text`;
  }
}

/**
 * The full COPY statement for `innerSql` (parameters already inlined). The newlines around the
 * user SQL keep a trailing `-- comment` from swallowing the closing parenthesis.
 */
export function buildCopySql(innerSql: string, options: CsvExportOptions): string {
  const body = innerSql.replace(/[\s;]+$/, '');
  const list = options.columns.map((c) => `${columnExpression(c, options.timezone)} AS ${quoteIdent(c.key)}`).join(',\n  ');
  return (
    `COPY (SELECT\n  ${list}\nFROM (\n${body}\n) AS q) TO STDOUT WITH (FORMAT csv, HEADER ${options.header ? 'true' : 'false'}, ` +
    `DELIMITER ${quoteLiteral(options.delimiter)}, NULL '', ENCODING 'UTF8')`
  );
}
