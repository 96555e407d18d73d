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

/**
 * Each column is rendered in two steps. The inner select turns the value into PostgreSQL's own
 * text once (its output functions are several times faster than `to_char`); `OFFSET 0` keeps the
 * planner from merging the layers, which would evaluate that text again for every reference.
 * The outer select only patches the text into the canonical form.
 *
 * With `DateStyle ISO` (set on the session) PostgreSQL already prints what ferry writes, except:
 * timestamps use a space instead of `T`, and whole-hour offsets are `+09` instead of `+09:00`.
 * Fractions come without trailing zeros and local-mean-time offsets with seconds, as ferry's.
 * Years after 9999 or BC are not rendered canonically; ferry does not expect them in exports.
 */
interface ColumnSql {
  /** Expression over `q` (the user's query), computed once per row. */
  inner: string;
  /** Expression over `r.cN` (the inner value) that gives the cell text. */
  outer: (ref: string) => string;
}

/** `yyyy-MM-dd hh:mm:ss[.f]±hh[:mm[:ss]]` → `yyyy-MM-ddThh:mm:ss[.f]±hh:mm[:ss]`. */
function timestampOuter(ref: string): string {
  return `replace(${ref}, ' ', 'T') || CASE WHEN substr(${ref}, length(${ref}) - 2, 1) IN ('+', '-') THEN ':00' ELSE '' END`;
}

/** The two expressions that render one column as the csv encoder's canonical text. */
export function columnSql(c: ResolvedColumn, zone: string): ColumnSql {
  const col = `q.${quoteIdent(c.source)}`;
  switch (c.type) {
    case 'bool': {
      // boolean::text is 'true'/'false' (the output function would give 't'/'f').
      if (!c.bool) return { inner: `(${col})::boolean::text`, outer: (r) => r };
      const [t, f] = c.bool;
      return { inner: `(${col})::boolean`, outer: (r) => `CASE WHEN ${r} THEN ${quoteLiteral(t)} WHEN NOT ${r} THEN ${quoteLiteral(f)} END` };
    }
    case 'date':
      return { inner: `(${col})::date::text`, outer: (r) => r };
    case 'timestamptz':
      // The session TimeZone is the config zone: the text is local time with its offset.
      return { inner: `(${col})::timestamptz::text`, outer: timestampOuter };
    case 'timestamp':
      // A wall time is placed in the config zone first (AT TIME ZONE resolves DST like ferry's
      // encoder: a skipped 02:30 becomes 03:30 daylight time, a repeated 01:30 is standard
      // time), then printed like a timestamptz.
      return { inner: `((${col})::timestamp AT TIME ZONE ${quoteLiteral(zone)})::text`, outer: timestampOuter };
    default:
      // string, int, decimal, json, unknown: PostgreSQL's own output text, which is also what
      // the row path hands to the encoder (numeric keeps its digits, int8 is exact).
      return { inner: `(${col})::text`, outer: (r) => r };
  }
}

/**
 * The full COPY statement for `innerSql` (parameters already inlined). The newlines around the
 * user SQL keep a trailing `-- comment` from swallowing the closing parenthesis.
 */
export function buildCopySql(innerSql: string, options: CsvExportOptions): string {
  const body = innerSql.replace(/[\s;]+$/, '');
  const cols = options.columns.map((c) => columnSql(c, options.timezone));
  const inner = cols.map((c, i) => `${c.inner} AS c${i}`).join(',\n    ');
  const outer = cols.map((c, i) => `${c.outer(`r.c${i}`)} AS ${quoteIdent(options.columns[i]!.key)}`).join(',\n  ');
  return (
    `COPY (SELECT\n  ${outer}\nFROM (SELECT\n    ${inner}\n  FROM (\n${body}\n) AS q OFFSET 0) AS r) TO STDOUT ` +
    `WITH (FORMAT csv, HEADER ${options.header ? 'true' : 'false'}, DELIMITER ${quoteLiteral(options.delimiter)}, NULL '', ENCODING 'UTF8')`
  );
}
