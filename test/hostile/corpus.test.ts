/**
 * The committed bad-input corpus (test/fixtures/bad/README.md): each file is ingested between
 * two good ones through the CLI; the exit code, the message with file and line:column, the good
 * files' data, and the absence of anything from a rejected file are checked literally.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { cli, tempDir } from '../support/helpers.js';
import { bad, GOOD_ONLY, inspect, TERMINAL_UNSAFE } from './common.js';

interface Rejected {
  file: string;
  /** `line:column` printed after the file name. */
  at: string;
  message: string;
}

const rejected: Rejected[] = [
  {
    file: 'truncated-in-document.json',
    at: '1:188',
    message: 'unexpected end of input inside a string that starts at byte 138: the file looks truncated',
  },
  {
    file: 'truncated-between-traces.json',
    at: '1:892',
    message:
      'unexpected end of input with 2 unclosed brackets (value starts at byte 0): the file looks truncated',
  },
  { file: 'concatenated-with-comma.json', at: '16:2', message: "unexpected ','" },
  {
    file: 'invalid-utf8.json',
    at: '1:20',
    message: 'invalid UTF-8 in this document: byte 0xff at byte 19 is not part of a valid UTF-8 sequence',
  },
  {
    file: 'overlong-utf8.json',
    at: '1:21',
    message: 'invalid UTF-8 in this document: byte 0xc0 at byte 20 is not part of a valid UTF-8 sequence',
  },
  { file: 'document-not-json.json', at: '1:1', message: 'invalid JSON in Segments[0].Document' },
  { file: 'empty.json', at: '1:1', message: 'the input is empty' },
  {
    file: 'binary-garbage.bin',
    at: '1:1',
    message: "expected '{' or '[' but found byte 0x9a: this is not a JSON document",
  },
  {
    file: 'top-level-string.json',
    at: '1:1',
    message: "expected '{' or '[' but found a string: this is not a JSON document",
  },
  { file: 'not-an-export.json', at: '1:1', message: 'not a trace export (found keys: hello)' },
];

async function ingestBetweenGood(
  file: string,
): Promise<{ code: number; out: string; err: string; db: string }> {
  const db = path.join(tempDir(), 'x.db');
  const r = await cli(['--db', db, 'ingest', bad('good-1.json'), bad(file), bad('good-2.json')]);
  return { ...r, db };
}

for (const r of rejected) {
  test(`corpus: ${r.file} is rejected with its position; the good files are kept, nothing of it is`, async (t) => {
    const { code, err, db } = await ingestBetweenGood(r.file);
    t.is(code, 3);
    t.true(err.includes(`xray-lp: rejected ${bad(r.file)}:${r.at}: ${r.message}`), err);
    t.false(err.includes('internal error'));
    const state = inspect(db);
    t.like(state, GOOD_ONLY);
    t.deepEqual(state.sources, [bad('good-1.json'), bad('good-2.json')]);
    t.is(state.problems, 0);
    t.is(state.integrity, 'ok');
    t.is(state.foreignKeys, 0);
  });
}

interface Accepted {
  file: string;
  /** What the bad file adds to the good files' counts. */
  adds: { traces: number; segments: number; calls: number; workloads: number };
  problems: number;
}

const accepted: Accepted[] = [
  { file: 'bom.json', adds: { traces: 1, segments: 1, calls: 1, workloads: 1 }, problems: 0 },
  { file: 'zero-traces.json', adds: { traces: 0, segments: 0, calls: 0, workloads: 0 }, problems: 0 },
  { file: 'coerced-types.json', adds: { traces: 1, segments: 1, calls: 2, workloads: 1 }, problems: 0 },
  { file: 'wrong-types.json', adds: { traces: 1, segments: 2, calls: 2, workloads: 2 }, problems: 1 },
  {
    file: 'missing-and-duplicate-ids.json',
    adds: { traces: 1, segments: 2, calls: 1, workloads: 1 },
    problems: 3,
  },
  { file: 'prototype-keys.json', adds: { traces: 1, segments: 2, calls: 3, workloads: 2 }, problems: 0 },
  { file: 'control-characters.json', adds: { traces: 1, segments: 3, calls: 5, workloads: 3 }, problems: 0 },
  {
    file: 'path-traversal-names.json',
    adds: { traces: 1, segments: 9, calls: 9, workloads: 9 },
    problems: 0,
  },
];

for (const a of accepted) {
  test(`corpus: ${a.file} is ingested with the documented counts`, async (t) => {
    const { code, err, db } = await ingestBetweenGood(a.file);
    t.is(code, 0, err);
    t.is(err, '');
    const state = inspect(db);
    t.like(state, {
      traces: GOOD_ONLY.traces + a.adds.traces,
      segments: GOOD_ONLY.segments + a.adds.segments,
      calls: GOOD_ONLY.calls + a.adds.calls,
      workloads: GOOD_ONLY.workloads + a.adds.workloads,
      problems: a.problems,
      integrity: 'ok',
      foreignKeys: 0,
    });
    t.deepEqual(state.sources, [bad('good-1.json'), bad(a.file), bad('good-2.json')]);
  });
}

test('corpus: numbers written as strings and strings written as numbers are read as such', async (t) => {
  const { db } = await ingestBetweenGood('coerced-types.json');
  const d = new (await import('better-sqlite3')).default(db, { readonly: true });
  t.deepEqual(
    d
      .prepare(
        `SELECT c.sub_id, c.http_status, c.start_time, t.operation, t.account, t.params, p.name, p.account AS pacct, tr.duration
         FROM calls c JOIN targets t ON t.id = c.target_id LEFT JOIN workloads p ON p.id = c.workload_id
         JOIN traces tr ON tr.id = c.trace_id WHERE c.sub_id IN ('5002', '5003') ORDER BY c.sub_id`,
      )
      .all(),
    [
      {
        sub_id: '5002',
        http_status: 200,
        start_time: 1_763_500_001,
        operation: 'GetItem',
        account: '123456789012',
        params: '{"table_name":"42"}',
        name: '12345',
        pacct: '123456789012',
        duration: 2,
      },
      // `"status": "NaN"` is not a number: null, not NaN; `operation: 99` is the string "99".
      {
        sub_id: '5003',
        http_status: null,
        start_time: 1_763_500_001,
        operation: '99',
        account: '123456789012', // from the workload, as for any call without its own
        params: null,
        name: '12345',
        pacct: '123456789012',
        duration: 2,
      },
    ],
  );
  d.close();
});

test('corpus: __proto__, constructor and prototype keys stay data; Object.prototype is untouched', async (t) => {
  const before = Object.getOwnPropertyNames(Object.prototype).sort();
  const { db } = await ingestBetweenGood('prototype-keys.json');
  t.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), before);
  t.is(({} as Record<string, unknown>).polluted, undefined);
  t.is(({} as Record<string, unknown>).in_progress, undefined);
  t.is(({} as Record<string, unknown>).table_name, undefined);
  const usage = await cli(['--db', db, 'usage', '--json', '--principal', '__proto__']);
  t.is(usage.code, 0, usage.err);
  // Operations named like Object.prototype members are unmapped, never a crash or an invented action.
  t.regex(usage.out, /dynamodb:constructor/);
  const d = new (await import('better-sqlite3')).default(db, { readonly: true });
  // `"__proto__": {"in_progress": true}` inside the document did not make the segment in progress,
  // and `aws.__proto__.table_name` did not become a recorded parameter.
  t.deepEqual(d.prepare(`SELECT in_progress FROM segments WHERE id = 'p1'`).get(), { in_progress: 0 });
  t.deepEqual(d.prepare(`SELECT count(*) AS n FROM targets WHERE params LIKE '%injected%'`).get(), { n: 0 });
  d.close();
  const policy = await cli(['--db', db, 'policy', '--json']);
  t.is(policy.code, 0, policy.err);
});

const commands = [
  ['stats'],
  ['sources'],
  ['principals'],
  ['usage'],
  ['calls'],
  ['timeline'],
  ['policy'],
  ['explain', 'evil*', 'dynamodb:GetItem'],
];

test('corpus: control characters and ANSI escapes in names, operations and ARNs never reach the terminal raw', async (t) => {
  const { db } = await ingestBetweenGood('control-characters.json');
  for (const args of commands) {
    const r = await cli(['--db', db, ...args]);
    // explain exits 6 when the permission is not granted.
    t.true([0, 4, 6].includes(r.code), `${args.join(' ')}: ${r.err}`);
    t.is(
      TERMINAL_UNSAFE.exec(r.out + r.err)?.[0],
      undefined,
      `${args.join(' ')} printed a raw control character`,
    );
  }
  // The data themselves are stored as recorded: neutralising is the printer's job.
  const d = new (await import('better-sqlite3')).default(db, { readonly: true });
  t.is(
    (
      d.prepare(`SELECT count(*) AS n FROM workloads WHERE name LIKE 'evil' || char(27) || '%'`).get() as {
        n: number;
      }
    ).n,
    1,
  );
  d.close();
});

test('corpus: --json output escapes control characters and round-trips the exact names', async (t) => {
  const { db } = await ingestBetweenGood('control-characters.json');
  for (const cmd of ['principals', 'usage', 'calls', 'timeline', 'stats', 'sources', 'policy']) {
    const r = await cli(['--db', db, cmd, '--json']);
    t.is(r.code, 0, r.err);
    t.is(TERMINAL_UNSAFE.exec(r.out)?.[0], undefined, `${cmd} --json printed a raw control character`);
    t.notThrows(() => JSON.parse(r.out));
  }
  const p = await cli(['--db', db, 'principals', '--json']);
  t.true(p.out.includes('evil\\u001b[31m'), 'ESC is written as \\u001b');
});

/** Splits RFC 4180 CSV into rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

test('corpus: CSV cells that a spreadsheet would run as a formula are prefixed; CSV stays well-formed', async (t) => {
  const { db } = await ingestBetweenGood('control-characters.json');
  for (const cmd of ['principals', 'usage', 'calls']) {
    const r = await cli(['--db', db, cmd, '--csv']);
    t.is(r.code, 0, r.err);
    const rows = parseCsv(r.out);
    const width = rows[0]?.length ?? 0;
    t.true(rows.length > 3, cmd);
    for (const row of rows) {
      t.is(row.length, width, `${cmd}: ragged row ${JSON.stringify(row)}`);
      for (const cell of row) {
        t.notRegex(cell, /^[=+\-@\t\r]/, `${cmd}: cell ${JSON.stringify(cell)}`);
        t.is(TERMINAL_UNSAFE.exec(cell)?.[0], undefined, `${cmd}: cell ${JSON.stringify(cell)}`);
      }
    }
    const cells = rows.flat();
    if (cmd === 'principals') {
      t.true(cells.includes(`'=HYPERLINK("http://evil.example/x","click")`));
      t.true(cells.includes(`'-2+3`));
    }
  }
});

test('corpus: workload names never steer policy --out outside its folder', async (t) => {
  const { db } = await ingestBetweenGood('path-traversal-names.json');
  const root = tempDir();
  const out = path.join(root, 'a', 'out');
  const r = await cli(['--db', db, 'policy', '--out', out]);
  t.is(r.code, 0, r.err);
  const files = fs
    .readdirSync(out)
    .filter((f) => f !== '.xray-lp-manifest.json')
    .sort();
  t.is(files.length, 12); // 11 workloads + evidence.json (+ the manifest of what xray-lp wrote)
  for (const f of files) {
    t.regex(f, /^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
    t.notRegex(f.split('.')[0] ?? '', /^(con|prn|aux|nul|com\d|lpt\d)$/i);
  }
  t.true(files.includes('_CON.policy.json'));
  t.true(files.includes('_nul.txt.policy.json'));
  t.true(files.includes('_LPT1.policy.json'));
  // Nothing was written next to or above the folder.
  t.deepEqual(fs.readdirSync(path.join(root, 'a')), ['out']);
  t.deepEqual(fs.readdirSync(root), ['a']);
});
