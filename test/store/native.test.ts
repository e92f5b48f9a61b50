/**
 * better-sqlite3's native module: it loads here, and when it cannot (built for another Node ABI,
 * os or arch, or missing) the error says why and what to do, in one line, as a StoreError.
 */
import test from 'ava';
import { StoreError } from '../../src/shared/errors.js';
import { loadNativeModule, nativeLoadProblem } from '../../src/store/native.js';

test('the native module loads and reports better-sqlite3 and SQLite versions', (t) => {
  const info = loadNativeModule();
  t.regex(info.betterSqlite3, /^\d+\.\d+\.\d+/);
  t.regex(info.sqlite, /^3\.\d+\.\d+$/);
});

const running = { node: 'v22.12.0', abi: '127' };
const dlopen = (message: string): Error => Object.assign(new Error(message), { code: 'ERR_DLOPEN_FAILED' });

const cases: { title: string; err: unknown; expected: RegExp | undefined }[] = [
  {
    title: 'built for another Node ABI: names both ABIs and the fix',
    err: dlopen(
      "The module '/opt/xray-lp-0.2.0/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 127. Please try re-compiling or re-installing\nthe module (for instance, using `npm rebuild` or `npm install`).",
    ),
    expected:
      /^better-sqlite3's native module was built for another Node\.js \(NODE_MODULE_VERSION 115\) than this one \(v22\.12\.0, NODE_MODULE_VERSION 127\), so it cannot load\. Run xray-lp with the Node\.js major it was built with .*npm rebuild better-sqlite3.*Installing where there is no network/,
  },
  {
    title: 'built for another os or arch: the loader’s first line',
    err: dlopen('/opt/x/better_sqlite3.node: invalid ELF header'),
    expected:
      /^better-sqlite3's native module cannot load in this Node\.js \(v22\.12\.0, NODE_MODULE_VERSION 127, \w+-\w+\): \/opt\/x\/better_sqlite3\.node: invalid ELF header\. Run xray-lp/,
  },
  {
    title: 'the compiled file is missing (bindings found none)',
    err: new Error('Could not locate the bindings file. Tried:\n → /opt/x/build/better_sqlite3.node'),
    expected:
      /cannot load in this Node\.js .*: its compiled file \(build\/Release\/better_sqlite3\.node\) is missing\./,
  },
  {
    title: 'another error is not a native-module problem',
    err: new Error('disk I/O error'),
    expected: undefined,
  },
  {
    title: 'a SQLite error is not one either',
    err: Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
    expected: undefined,
  },
];

for (const c of cases)
  test(`nativeLoadProblem: ${c.title}`, (t) => {
    const problem = nativeLoadProblem(c.err, running);
    if (!c.expected) return t.is(problem, undefined);
    t.true(problem instanceof StoreError);
    t.is(problem?.exitCode, 1);
    t.regex(problem?.message ?? '', c.expected);
    t.false(problem?.message.includes('\n'), 'one line');
  });
