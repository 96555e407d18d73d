/**
 * Flat memory: decoding a large csv stream must not keep the file (or its rows) in memory.
 * The heap is measured after forced collections while iterating, so only retained memory counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decodeFile, resolveImportColumns } from '../../src/formats/index.js';
import type { DecodeSummary } from '../../src/formats/types.js';
import type { ImportFormatSpec } from '../../src/types.js';

/** A `gc()` without running node with --expose-gc. */
function getGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const ROWS = 300_000;

/** 300k rows of a 10-column csv, generated in ~64 KiB chunks (about 40 MB in all). */
async function* bigCsv(): AsyncGenerator<Buffer> {
  yield Buffer.from('id,name,city,amount,big,ratio,created_at,local_ts,day,paid\n');
  let chunk = '';
  for (let i = 0; i < ROWS; i++) {
    const city = i % 3 ? '서울' : '"Busan, ""x""\nNorth"';
    chunk += `${i},name ${i},${city},${i}.50,${i * 1000003},0.${i},2026-11-21T08:30:${String(i % 60).padStart(2, '0')}+09:00,2026-11-20T23:59:59.999999,2026-11-20,${i % 2 ? 'true' : 'f'}\n`;
    if (chunk.length > 65536) {
      yield Buffer.from(chunk);
      chunk = '';
    }
  }
  yield Buffer.from(chunk);
}

test('decoding a 300k-row csv keeps the heap flat', async () => {
  const gc = getGc();
  const format: ImportFormatSpec = {
    type: 'csv',
    columns: {
      id: 'int',
      name: 'string',
      city: 'string',
      amount: 'decimal',
      big: 'int',
      ratio: 'float',
      created_at: 'timestamptz',
      local_ts: 'timestamp',
      day: 'date',
      paid: 'bool',
    },
  };
  const summary: DecodeSummary = { rows: 0 };
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  let n = 0;
  let lastLine = 0;
  for await (const row of decodeFile(bigCsv(), { format, columns: resolveImportColumns(format), timezone: 'Asia/Seoul', fileName: 'big.csv' }, summary)) {
    n++;
    lastLine = row.line;
    if (n % 25_000 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
  }
  assert.equal(n, ROWS);
  assert.equal(summary.rows, ROWS);
  // Every third row spans two lines.
  assert.equal(lastLine, 1 + ROWS + Math.ceil(ROWS / 3));
  assert.ok(peak < 40 * 1024 * 1024, `heap grew by ${(peak / 1048576).toFixed(1)} MB`);
});
