/** crlfTransform: record ends become CRLF, newlines inside quoted fields do not, at any chunking. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { crlfTransform } from '../../src/formats/index.js';

async function run(chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of Readable.from(chunks).pipe(crlfTransform())) out.push(b as Buffer);
  return Buffer.concat(out);
}

const INPUT = Buffer.from('id,name,note\n1,"a\nb",x\n2,"say ""hi""\n",\n3,"""",""\n4,서울,"\r\n"\n\n5,end,""""""\n', 'utf8');
const EXPECTED = Buffer.from('id,name,note\r\n1,"a\nb",x\r\n2,"say ""hi""\n",\r\n3,"""",""\r\n4,서울,"\r\n"\r\n\r\n5,end,""""""\r\n', 'utf8');

test('crlfTransform converts record ends only', async () => {
  assert.equal((await run([INPUT])).toString('utf8'), EXPECTED.toString('utf8'));
});

test('crlfTransform gives the same bytes when split at every byte position', async () => {
  for (let i = 0; i <= INPUT.length; i++) {
    const out = await run([INPUT.subarray(0, i), INPUT.subarray(i)]);
    assert.ok(out.equals(EXPECTED), `split at ${i}: ${JSON.stringify(out.toString('utf8'))}`);
  }
});

test('crlfTransform with one-byte and three-way chunks', async () => {
  const bytes = [...INPUT].map((b) => Buffer.from([b]));
  assert.ok((await run(bytes)).equals(EXPECTED));
  for (let i = 0; i < INPUT.length; i += 3) {
    for (let j = i; j <= INPUT.length; j += 5) {
      const out = await run([INPUT.subarray(0, i), INPUT.subarray(i, j), INPUT.subarray(j)]);
      assert.ok(out.equals(EXPECTED), `split at ${i}/${j}`);
    }
  }
});

test('crlfTransform leaves input without newlines alone and handles empty chunks', async () => {
  assert.equal((await run([Buffer.alloc(0), Buffer.from('a,b'), Buffer.alloc(0)])).toString(), 'a,b');
});
