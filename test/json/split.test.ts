import test from 'ava';
import { generateDumpSync } from '../support/generator.js';
import { parseInline } from '../../src/ingest/pipeline.js';
import { JsonSplitter, SplitError, type SplitEvent } from '../../src/json/split.js';

/** Feeds `text` in chunks of `chunk` bytes and collects every event. */
function split(text: string | Buffer, chunk = 7, wholeLimit?: number, fast = true): SplitEvent[] {
  const s = new JsonSplitter({ wholeLimit, fast });
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const out: SplitEvent[] = [];
  for (let i = 0; i < buf.length; i += chunk) out.push(...s.push(buf.subarray(i, i + chunk)));
  out.push(...s.end());
  return out;
}

const wholes = (events: SplitEvent[]): unknown[] =>
  events.filter((e) => e.kind === 'whole').map((e) => JSON.parse((e as { bytes: Buffer }).bytes.toString()));

const cases: { name: string; input: string; expect: unknown[] }[] = [
  { name: 'one object', input: '{"a":1}', expect: [{ a: 1 }] },
  { name: 'concatenated, no separator', input: '{"a":1}{"b":[2]}', expect: [{ a: 1 }, { b: [2] }] },
  { name: 'one per line', input: '{"a":1}\n{"a":2}\n', expect: [{ a: 1 }, { a: 2 }] },
  { name: 'pretty, with CRLF', input: '{\r\n  "a": "x"\r\n}\r\n[\r\n 1\r\n]', expect: [{ a: 'x' }, [1]] },
  {
    name: 'quotes and brackets inside strings',
    input: '{"a":"}{][\\"\\\\"}{"b":"\\\\"}',
    expect: [{ a: '}{]["\\' }, { b: '\\' }],
  },
  {
    name: 'escaped JSON document strings',
    input: '{"Document":"{\\"id\\":\\"x\\",\\"n\\":[1,{}]}"}',
    expect: [{ Document: '{"id":"x","n":[1,{}]}' }],
  },
  { name: 'UTF-8 BOM skipped', input: '\ufeff{"a":1}', expect: [{ a: 1 }] },
  {
    name: 'daemon header then document',
    input: '{"format": "json", "version": 1}\n{"id":"1"}',
    expect: [{ format: 'json', version: 1 }, { id: '1' }],
  },
  { name: 'multi-byte characters', input: '{"name":"café — 東京"}', expect: [{ name: 'café — 東京' }] },
];

for (const c of cases) {
  for (const chunk of [1, 3, 64]) {
    test(`splits: ${c.name} (chunks of ${chunk})`, (t) => {
      t.deepEqual(wholes(split(c.input, chunk)), c.expect);
    });
  }
}

test('whole events carry the byte offset of each value', (t) => {
  const events = split('  {"a":1}\n\n{"b":2}', 2);
  t.deepEqual(
    events.map((e) => e.offset),
    [2, 11],
  );
});

const errors: { name: string; input: string; message: RegExp; offset: number }[] = [
  {
    name: 'truncated inside a string',
    input: '{"Traces":[{"Id":"1-ab',
    message: /inside a string that starts at byte 17.*truncated/,
    offset: 22,
  },
  {
    name: 'truncated between values',
    input: '{"Traces":[{"Id":"x"},',
    message: /2 unclosed brackets.*truncated/,
    offset: 22,
  },
  { name: 'stray closing bracket', input: '{"a":1}}', message: /unexpected '}'/, offset: 7 },
  { name: 'mismatched bracket', input: '{"a":[1}', message: /'}' closes a '\['/, offset: 7 },
  {
    name: 'not JSON at all',
    input: 'Traces:\n- Id: 1',
    message: /expected '\{' or '\[' but found 'T'/,
    offset: 0,
  },
  { name: 'binary garbage', input: '\u0001\u0002', message: /byte 0x01/, offset: 0 },
  { name: 'top-level scalar', input: '42', message: /found '4'/, offset: 0 },
];

for (const c of errors) {
  test(`rejects: ${c.name}`, (t) => {
    const err = t.throws(() => split(c.input, 4), { instanceOf: SplitError });
    t.regex(err!.message, c.message);
    t.is(err!.offset, c.offset);
  });
}

test('a value larger than the limit is emitted member by member', (t) => {
  const traces = Array.from({ length: 50 }, (_, i) => ({
    Id: `t${i}`,
    Segments: [{ Id: `s${i}`, Document: '{"id":"x"}' }],
  }));
  const input = JSON.stringify(
    { Traces: traces, UnprocessedTraceIds: ['u1', 'u2'], NextToken: null },
    null,
    2,
  );
  const events = split(input, 100, 500);
  t.false(events.some((e) => e.kind === 'whole'));
  const parts = events.filter((e) => e.kind === 'part');
  const tracesBack = parts.filter((p) => p.key === 'Traces').map((p) => JSON.parse(p.bytes.toString()));
  t.deepEqual(tracesBack, traces);
  t.deepEqual(
    parts.filter((p) => p.key === 'UnprocessedTraceIds').map((p) => JSON.parse(p.bytes.toString())),
    ['u1', 'u2'],
  );
  const token = parts.find((p) => p.key === 'NextToken');
  t.is(token?.element, false);
  t.is(token?.bytes.toString(), 'null');
  t.is(events.at(-1)?.kind, 'parts-end');
});

test('a huge bare array is emitted element by element, then a small value whole', (t) => {
  const arr = Array.from({ length: 40 }, (_, i) => ({ id: i, s: 'x'.repeat(20) }));
  const events = split(`${JSON.stringify(arr)}\n{"after":true}`, 33, 300);
  const parts = events.filter((e) => e.kind === 'part');
  t.deepEqual(
    parts.map((p) => JSON.parse(p.bytes.toString())),
    arr,
  );
  t.true(parts.every((p) => p.top === 'array'));
  t.deepEqual(wholes(events), [{ after: true }]);
});

test('memory stays bounded while a huge value streams in parts', (t) => {
  const s = new JsonSplitter({ wholeLimit: 1 << 16 });
  s.push(Buffer.from('{"Traces":['));
  const one = Buffer.from(
    JSON.stringify({ Id: 'x', Segments: [{ Id: 'y', Document: 'z'.repeat(1000) }] }) + ',',
  );
  let parts = 0;
  for (let i = 0; i < 20_000; i++) parts += s.push(one).filter((e) => e.kind === 'part').length; // ~20 MB
  t.true(parts > 19_000);
  // The internal buffer never needed to hold more than a few parts.
  t.true((s as unknown as { buf: Buffer }).buf.length <= 4 << 20);
});

test('an element of a stream key past the stream limit is passed on in pieces that add up to it', (t) => {
  const spans = Array.from({ length: 300 }, (_, i) => ({
    spanId: i.toString(16).padStart(16, '0'),
    name: 'x'.repeat(30),
  }));
  const big = { resource: { attributes: [] }, scopeSpans: [{ spans }] };
  const small = { resource: { attributes: [{ key: 'a', value: { stringValue: 'b' } }] }, scopeSpans: [] };
  const input = JSON.stringify({ resourceSpans: [small, big, small] });
  for (const chunk of [7, 100, 4096]) {
    const s = new JsonSplitter({
      wholeLimit: 256,
      streamLimit: 1024,
      streamKeys: new Set(['resourceSpans']),
    });
    const buf = Buffer.from(input);
    const events: SplitEvent[] = [];
    for (let i = 0; i < buf.length; i += chunk) events.push(...s.push(buf.subarray(i, i + chunk)));
    events.push(...s.end());
    const pieces = events.filter((e) => e.kind === 'stream');
    t.true(pieces.length >= 2, `chunk ${chunk}`);
    t.true(pieces[0]!.first && !pieces[0]!.last);
    t.true(pieces.at(-1)!.last);
    t.true(pieces.every((p) => p.key === 'resourceSpans'));
    t.deepEqual(JSON.parse(Buffer.concat(pieces.map((p) => p.bytes)).toString()), big, `chunk ${chunk}`);
    // The elements either side are ordinary parts, in order.
    const kinds = events.map((e) => (e.kind === 'part' ? 'part' : e.kind));
    t.is(kinds.indexOf('stream'), 1, `chunk ${chunk}: ${kinds.join()}`);
    t.is(kinds.lastIndexOf('part'), kinds.length - 2);
    t.deepEqual(
      events
        .filter((e) => e.kind === 'part')
        .map((e) => JSON.parse((e as { bytes: Buffer }).bytes.toString())),
      [small, small],
    );
  }
});

test('a streamed element holds no more than the scan needs, however large it grows', (t) => {
  const s = new JsonSplitter({
    wholeLimit: 1 << 16,
    streamLimit: 1 << 18,
    streamKeys: new Set(['resourceSpans']),
  });
  s.push(Buffer.from('{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":['));
  const one = Buffer.from(`${JSON.stringify({ spanId: 'a'.repeat(16), name: 'z'.repeat(1000) })},`);
  let bytes = 0;
  for (let i = 0; i < 20_000; i++)
    for (const e of s.push(one)) if (e.kind === 'stream') bytes += e.bytes.length; // ~20 MB
  t.true(bytes > 19_000_000);
  t.true((s as unknown as { buf: Buffer }).buf.length <= 4 << 20);
});

test('an element of any other member past the part limit still fails', (t) => {
  const s = new JsonSplitter({
    wholeLimit: 256,
    partLimit: 4096,
    streamLimit: 1024,
    streamKeys: new Set(['resourceSpans']),
  });
  s.push(Buffer.from('{"Traces":[{"Id":"'));
  const err = t.throws(() => s.push(Buffer.from('x'.repeat(10_000))), { instanceOf: SplitError });
  t.regex(err!.message, /larger than/);
});

test('nesting beyond the limit fails without recursion', (t) => {
  const deep = '['.repeat(20_000) + ']'.repeat(20_000);
  const err = t.throws(() => split(deep, 4096), { instanceOf: SplitError });
  t.regex(err!.message, /nesting deeper than 10000/);
});

// ---- the fast path: values delimited by their `}\n{` boundary without a scan ----------------

/** Every event of `text` split in chunks, with or without the fast path. */
const events = (text: string | Buffer, chunk: number, fast: boolean): SplitEvent[] =>
  split(text, chunk, undefined, fast);

const plain = (evs: SplitEvent[]): unknown[] =>
  evs.map((e) => ({
    kind: e.kind,
    offset: e.offset,
    bytes: 'bytes' in e ? e.bytes.toString('latin1') : null,
  }));

const generated = [
  ...generateDumpSync({ sizeBytes: 300_000, seed: 3, workloads: 5, layout: 'concatenated' }),
].join('');

const fastInputs: { name: string; input: string }[] = [
  { name: 'a generated batch-get-traces dump (AWS CLI layout)', input: generated },
  { name: 'JSON Lines', input: '{"a":1}\n{"b":{"c":[1,2]}}\n{"d":"}\\n{"}\n' },
  { name: 'CRLF and blank lines between values', input: '{"a":1}\r\n\r\n{"b":2}  \n{"c":3}' },
  { name: 'nested objects that close at a line start', input: '{\n"a": {\n"b": 1\n}\n}\n{\n"c": 2\n}\n' },
];

for (const c of fastInputs) {
  for (const chunk of [5, 4096, 65536]) {
    test(`the fast path gives the same values and offsets as scanning: ${c.name} (chunks of ${chunk})`, (t) => {
      t.deepEqual(plain(events(c.input, chunk, true)), plain(events(c.input, chunk, false)));
    });
  }
}

test('the fast path is taken for AWS CLI output (most values are not scanned)', (t) => {
  const evs = events(generated, 65536, true);
  const unchecked = evs.filter((e) => e.kind === 'whole' && e.unchecked).length;
  t.true(evs.length > 10);
  t.true(unchecked >= evs.length - 1, `${unchecked} of ${evs.length} values took the fast path`);
});

test('a value past the whole-value limit still goes to part mode with the fast path on', (t) => {
  const big = `{"Traces":[${Array.from({ length: 400 }, (_, i) => `{"Id":"t${i}","Segments":[]}`).join(',\n')}]}\n{"a":1}`;
  const s = new JsonSplitter({ wholeLimit: 1000 });
  const buf = Buffer.from(big);
  const evs: SplitEvent[] = [];
  for (let i = 0; i < buf.length; i += 256) evs.push(...s.push(buf.subarray(i, i + 256)));
  evs.push(...s.end());
  t.is(evs.filter((e) => e.kind === 'part').length, 400);
  const last = evs.at(-1);
  t.is(last && 'bytes' in last ? last.bytes.toString() : null, '{"a":1}');
});

/** Items (or the error) of parsing `text` as one input, in chunks of 64 bytes. */
async function parseAll(text: string): Promise<{ items: number; error?: string; offset?: number }> {
  async function* chunks(): AsyncGenerator<Buffer> {
    const b = Buffer.from(text);
    for (let i = 0; i < b.length; i += 64) yield b.subarray(i, i + 64);
  }
  let items = 0;
  try {
    for await (const batch of parseInline(chunks(), { name: 'x' })) items += batch.items.length;
    return { items };
  } catch (err) {
    return { items, error: (err as Error).message, offset: (err as SplitError).offset };
  }
}

/** The error the byte-by-byte splitter alone reports for `text`. */
function scannedError(text: string): { error: string; offset: number } | undefined {
  try {
    events(text, 64, false);
    return undefined;
  } catch (err) {
    return { error: (err as Error).message, offset: (err as SplitError).offset };
  }
}

const seg = (n: number): string =>
  JSON.stringify({ id: `s${n}`, trace_id: '1-5f84c7a1-000000000000000000000001', name: 'fn' });

test('a fast-path slice holding two values is split again, not rejected', async (t) => {
  t.deepEqual(await parseAll(`${seg(1)}${seg(2)}\n${seg(3)}\n`), { items: 3 });
});

for (const [name, text] of [
  ['a bracket that closes the wrong thing', `{"Traces":[}\n{"Traces":[]}\n`],
  ['a stray comma after a value', `${seg(1)},\n${seg(2)}\n`],
  ['a string left open before the next line', `{"Traces":"x\n{"Traces":[]}\n`],
] as const) {
  test(`an invalid value delimited by the fast path gets the scanner's error: ${name}`, async (t) => {
    const want = scannedError(text);
    const got = await parseAll(text);
    t.truthy(got.error);
    if (want) t.like(got, { error: want.error, offset: want.offset });
  });
}

test('any part past streamAnyAbove is passed on in pieces, with where it sits, and never held whole', (t) => {
  const big = { note: 'y'.repeat(5000), rows: Array.from({ length: 100 }, (_, i) => ({ i })) };
  const cases: { name: string; input: string; key: string; top: 'object' | 'array'; element: boolean }[] = [
    {
      name: 'a member of a record',
      input: JSON.stringify({ id: 'a', metadata: big, name: 'n' }),
      key: 'metadata',
      top: 'object',
      element: false,
    },
    {
      name: 'an element of Traces',
      input: JSON.stringify({ Traces: [{ Id: 's' }, big] }),
      key: 'Traces',
      top: 'object',
      element: true,
    },
    {
      name: 'an element of a top-level array',
      input: JSON.stringify([{ id: 's' }, big]),
      key: '',
      top: 'array',
      element: false,
    },
  ];
  for (const c of cases) {
    // Chunks smaller than the value: one that arrives whole in a single chunk is emitted whole.
    for (const chunk of [7, 512, 1024]) {
      const s = new JsonSplitter({ wholeLimit: 256, partLimit: 4096, streamAnyAbove: 2048 });
      const buf = Buffer.from(c.input);
      const events: SplitEvent[] = [];
      for (let i = 0; i < buf.length; i += chunk) events.push(...s.push(buf.subarray(i, i + chunk)));
      events.push(...s.end());
      const pieces = events.filter((e) => e.kind === 'stream');
      t.true(pieces.length >= 1 && pieces[0]!.first && pieces.at(-1)!.last, `${c.name}, chunk ${chunk}`);
      t.true(
        pieces.every(
          (p) => p.key === c.key && p.top === c.top && p.element === c.element && p.topOffset === 0,
        ),
        `${c.name}, chunk ${chunk}`,
      );
      t.deepEqual(
        JSON.parse(Buffer.concat(pieces.map((p) => p.bytes)).toString()),
        big,
        `${c.name}, chunk ${chunk}`,
      );
    }
  }
});
