/**
 * Output does not depend on the process locale: the built binary prints byte-identical policies
 * (and listings) under LANG=C and LANG=tr_TR.UTF-8, on names that a locale-aware sort would put in
 * another order (Turkish collates I, ı, İ and i apart).
 */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { awsCall, batch, hexId, mainJs, T0, tempStore, traceId, writeFile } from '../support/helpers.js';

const NAMES = ['Istanbul', 'istanbul', 'İzmir', 'ızgara', 'izmir', 'Zeta', 'alpha'];

function ecsSegment(trace: string, name: string, calls: Record<string, unknown>[]): Record<string, unknown> {
  return {
    id: hexId(),
    name,
    origin: 'AWS::ECS::Container',
    trace_id: trace,
    start_time: T0,
    end_time: T0 + 2,
    aws: { account_id: '123456789012', ecs: { container: name } },
    subsegments: calls,
  };
}

test('the data is locale-sensitive: Turkish and English collation order these names differently', (t) => {
  const tr = [...NAMES].sort(new Intl.Collator('tr').compare);
  const en = [...NAMES].sort(new Intl.Collator('en').compare);
  t.notDeepEqual(tr, en);
});

test('policies, workloads and usage are byte-identical under LANG=C and LANG=tr_TR.UTF-8', async (t) => {
  const { store, file, dir } = tempStore();
  const traces = NAMES.map((name, i) => {
    const id = traceId(7000 + i);
    return {
      id,
      segments: [
        ecsSegment(
          id,
          name,
          NAMES.map((key) =>
            awsCall('S3', 'GetObject', { bucket_name: 'yükler', key: `${name}/${key}.txt` }),
          ),
        ),
      ],
    };
  });
  await ingest(store, { inputs: [writeFile(dir, 'tr.json', batch(traces))] });
  store.close();
  const run = (lang: string, args: string[]): string => {
    const r = spawnSync(process.execPath, [mainJs, '--db', file, ...args], {
      encoding: 'utf8',
      env: { ...process.env, LANG: lang, LC_ALL: lang },
    });
    if (r.status !== 0) throw new Error(`${args.join(' ')} (${lang}): ${r.stderr}`);
    return r.stdout;
  };
  for (const args of [
    ['policy', '--json', '--s3-objects', 'exact'],
    ['policy', '--format', 'terraform', '--s3-objects', 'exact'],
    ['workloads', '--json'],
    ['usage', '--csv'],
  ]) {
    const c = run('C', args);
    const tr = run('tr_TR.UTF-8', args);
    t.true(c.length > 100, `${args.join(' ')} printed something`);
    t.is(tr, c, args.join(' '));
  }
  // And the order is code-unit order: upper-case ASCII before lower-case, then the Turkish letters.
  const keys = (JSON.parse(run('tr_TR.UTF-8', ['policy', '--json'])) as { name: string }[]).map(
    (p) => p.name,
  );
  t.deepEqual(keys, [...keys].sort());
});
