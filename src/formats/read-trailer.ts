/**
 * Checking a received file's trailer line against the template the job declares, with the same
 * placeholder syntax the writers use (trailer.ts): `{count}`, `{sum:column}`, `{date:FORMAT}`.
 */
import { DateTime } from 'luxon';
import type { FileProblem } from '../errors.js';
import { DecimalSum } from './decimal.js';
import { parseTrailer, type TrailerPart } from './trailer.js';

/** Numeric text a trailer may carry for a sum (what DecimalSum accepts). */
const SUM_PATTERN = '([+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?)';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether two decimal texts are the same number ('12.5' and '12.50' are), computed exactly. */
function sameNumber(a: string, b: string): boolean {
  const diff = new DecimalSum();
  if (!diff.add(a)) return false;
  // Subtract b by adding it with the sign flipped.
  const negated = b.startsWith('-') ? b.slice(1) : b.startsWith('+') ? `-${b.slice(1)}` : `-${b}`;
  if (!diff.add(negated)) return false;
  return /^0(?:\.0*)?$/.test(diff.toString());
}

/**
 * The `{sum:column}` names of a trailer template, in template order (duplicates once). decodeFile
 * uses it to know which columns to add up.
 */
export function trailerSumColumns(template: string): string[] {
  const names: string[] = [];
  for (const part of parseTrailer(template).parts) {
    if (part.kind === 'sum' && !names.includes(part.column)) names.push(part.column);
  }
  return names;
}

/**
 * Compare a file's trailer line with the template and the totals of its rows.
 *
 * `stats.sums` maps each `{sum:column}` name (as written in the template) to the exact sum of that
 * column's values; decodeFile provides it in `DecodeSummary.sums`. A name missing from the map
 * counts as 0 (no rows). `{date:FORMAT}` is checked for shape only (a real date in FORMAT): the
 * business date is the run's business, not the file's.
 *
 * Returns the problems (empty when the trailer agrees), e.g. `trailer says 3 rows but the file has 4`.
 */
export function checkTrailer(template: string, trailerText: string | undefined, stats: { rows: number; sums: Map<string, string> }): FileProblem[] {
  const { parts, problems: templateProblems } = parseTrailer(template);
  if (templateProblems.length > 0) return templateProblems.map((message) => ({ message }));
  if (trailerText === undefined) return [{ message: `the file has no trailer line (expected one like '${template}')` }];

  const groups: TrailerPart[] = [];
  let pattern = '^';
  for (const part of parts) {
    switch (part.kind) {
      case 'text':
        pattern += escapeRegExp(part.text);
        break;
      case 'count':
        pattern += '(\\d+)';
        groups.push(part);
        break;
      case 'sum':
        pattern += SUM_PATTERN;
        groups.push(part);
        break;
      case 'date':
        pattern += '(.+?)';
        groups.push(part);
        break;
    }
  }
  const m = new RegExp(`${pattern}$`).exec(trailerText);
  if (!m) return [{ message: `the trailer line '${trailerText}' does not match the template '${template}'` }];

  const problems: FileProblem[] = [];
  groups.forEach((part, g) => {
    const text = m[g + 1]!;
    switch (part.kind) {
      case 'count': {
        const said = Number(text);
        if (said !== stats.rows) problems.push({ message: `trailer says ${text} rows but the file has ${stats.rows}` });
        break;
      }
      case 'sum': {
        const actual = stats.sums.get(part.column) ?? '0';
        if (!sameNumber(text, actual)) {
          problems.push({ column: part.column, message: `trailer says the sum of ${part.column} is ${text} but the rows add up to ${actual}` });
        }
        break;
      }
      case 'date': {
        const dt = DateTime.fromFormat(text, part.format, { zone: 'UTC', locale: 'en-US', numberingSystem: 'latn' });
        if (!dt.isValid) problems.push({ message: `trailer date '${text}' is not a date in the format '${part.format}'` });
        break;
      }
    }
  });
  return problems;
}
