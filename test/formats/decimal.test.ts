/** Exact decimal rounding and sums: never through a float. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecimalSum, roundDecimal } from '../../src/formats/decimal.js';

test('roundDecimal: half away from zero, zero padding, exponents expanded', () => {
  const table: [string, number, string][] = [
    ['2.345', 2, '2.35'],
    ['-2.345', 2, '-2.35'],
    ['2.344999', 2, '2.34'],
    ['7', 2, '7.00'],
    ['1.50', 2, '1.50'],
    ['1.5', 0, '2'],
    ['-1.5', 0, '-2'],
    ['0.5', 0, '1'],
    ['-0.4', 0, '0'],
    ['-0.005', 2, '-0.01'],
    ['-0.004', 2, '0.00'],
    ['9.995', 2, '10.00'],
    ['999.9999', 3, '1000.000'],
    ['.5', 1, '0.5'],
    ['5.', 1, '5.0'],
    ['+3.14159', 3, '3.142'],
    ['007.10', 1, '7.1'],
    ['1e-7', 8, '0.00000010'],
    ['1e-7', 2, '0.00'],
    ['1.5e3', 1, '1500.0'],
    ['-2.5E-1', 1, '-0.3'],
    ['1e+21', 0, '1000000000000000000000'],
    ['-12345678901234567890.123456789', 4, '-12345678901234567890.1235'],
    ['12345678901234567890123456789.5', 0, '12345678901234567890123456790'],
    ['0.1234567890123456789012345678905', 30, '0.123456789012345678901234567891'],
    ['NaN', 2, 'NaN'],
    ['-Infinity', 2, '-Infinity'],
  ];
  for (const [input, places, expected] of table) assert.equal(roundDecimal(input, places), expected, `${input} → ${places}`);
  assert.equal(roundDecimal(String(2.345), 2), '2.35', 'a float rounds by its shortest decimal text');
  assert.throws(() => roundDecimal('abc', 2), RangeError);
});

test('DecimalSum adds exactly and keeps the largest scale', () => {
  const s = new DecimalSum();
  assert.equal(s.toString(), '0');
  for (const t of ['0.1', '0.2', '1.50', '-12345678901234567890.123456789', '9007199254740993', '1e-3']) assert.ok(s.add(t));
  assert.equal(s.toString(), '-12336671701979826895.322456789');
  const z = new DecimalSum();
  z.add('-1.5');
  z.add('1.50');
  assert.equal(z.toString(), '0.00');
  assert.equal(z.add('NaN'), false);
  assert.equal(z.add('1,5'), false);
  assert.equal(z.add('1e99999'), false);
});
