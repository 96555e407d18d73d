/**
 * Shared helpers for the format tests: run encodeFile to one Buffer, and compare with golden files.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { encodeFile, resolveColumns } from '../../src/formats/index.js';
import type { FormatSpec } from '../../src/types.js';
import type { SourceColumn, Value } from '../../src/values.js';

/** Golden files live in the source tree; the compiled tests run from dist/test/formats. */
const GOLDEN_DIR = new URL('../../../test/golden/formats/', import.meta.url);

async function* fromArray(rows: readonly (readonly Value[])[]): AsyncGenerator<readonly Value[]> {
  for (const r of rows) yield r;
}

export interface EncodeCase {
  format: FormatSpec;
  source: SourceColumn[];
  rows: readonly (readonly Value[])[];
  timezone?: string;
  businessDate?: string;
  fileName?: string;
}

/** Resolve columns and encode every row; returns the file bytes, the chunk count and the row count. */
export async function encodeAll(c: EncodeCase): Promise<{ bytes: Buffer; chunks: number; rows: number }> {
  const columns = resolveColumns(c.format, c.source);
  const stats = { rows: 0 };
  const parts: Buffer[] = [];
  const opts = {
    format: c.format,
    columns,
    timezone: c.timezone ?? 'Asia/Seoul',
    businessDate: c.businessDate ?? '2026-11-20',
    fileName: c.fileName ?? 'orders_20261120.csv',
  };
  for await (const chunk of encodeFile(fromArray(c.rows), opts, stats)) parts.push(chunk);
  return { bytes: Buffer.concat(parts), chunks: parts.length, rows: stats.rows };
}

/**
 * Compare bytes with `test/golden/formats/<name>`; with UPDATE_GOLDEN=1 rewrite the file instead.
 * A mismatch is shown as text first (readable diff), then checked byte for byte.
 */
export function assertGolden(name: string, actual: Buffer): void {
  const url = new URL(name, GOLDEN_DIR);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(url, actual);
    return;
  }
  assert.ok(existsSync(url), `golden file ${name} is missing; run with UPDATE_GOLDEN=1 and review it`);
  const expected = readFileSync(url);
  if (!actual.equals(expected)) {
    assert.equal(actual.toString('latin1'), expected.toString('latin1'), `${name} differs from its golden file`);
    assert.fail(`${name} differs from its golden file`);
  }
}
