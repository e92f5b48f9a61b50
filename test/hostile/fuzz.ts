/**
 * The fuzz property shared by `npm test` (few cases, fixed seed) and `npm run fuzz` (many cases,
 * random seed): valid dumps are mutated at the byte, token and structure level and ingested
 * through the CLI next to a good file. Whatever the mutation: no unhandled exception, no hang,
 * an exit code of 0 or 3, a consistent database, and a rejected file leaves nothing behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { awsCall, batch, cli, lambdaSegment, T0, tempDir, traceId } from '../support/helpers.js';
import { bad, GOOD_ONLY, inspect } from './common.js';

/** Valid inputs of several shapes to start from. */
function seeds(): string[] {
  const t1 = traceId(701);
  const t2 = traceId(702);
  const traces = [
    {
      id: t1,
      segments: [
        lambdaSegment(t1, 'fuzz', [
          awsCall('DynamoDB', 'GetItem', { table_name: 'orders' }),
          awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' }),
        ]),
      ],
    },
    {
      id: t2,
      segments: [
        {
          id: 'f00000000000000a',
          trace_id: t2,
          name: 'worker',
          origin: 'AWS::ECS::Container',
          start_time: T0,
          end_time: T0 + 1,
          subsegments: [
            awsCall('SQS', 'SendMessage', {
              queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
            }),
          ],
        },
      ],
    },
  ];
  const parsed = JSON.parse(batch(traces)) as { Traces: unknown[] };
  return [
    batch(traces),
    batch(traces, { pretty: false, documentAsObject: true }),
    JSON.stringify(parsed.Traces),
    `{"format":"json","version":1}\n${JSON.stringify(traces[1]?.segments[0])}\n`,
  ];
}

const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  ':',
  '\\',
  '\\u0000',
  'null',
  '-1e999',
  '"__proto__"',
  '\u001b[2J',
  '\ufeff',
  '\n',
];

/** One mutation of a valid dump. */
type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; token: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'retype'; at: number; value: unknown }
  | { kind: 'gzip'; truncateAt: number | null };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 200 }),
  }),
  fc.record({
    kind: fc.constant('retype' as const),
    at: fc.nat(),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant('\u0000\u009b'), fc.constant(1e308)),
  }),
  fc.record({ kind: fc.constant('gzip' as const), truncateAt: fc.option(fc.nat(), { nil: null }) }),
);

/** Applies mutations in order; structure-level ones (`retype`) replace a value inside the JSON. */
export function mutate(input: string, mutations: Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : ('at' in m ? m.at : 0) % b.length;
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at] = m.byte;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.token), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at)]);
        break;
      case 'retype': {
        // Replace the n-th scalar of the first document, keeping the rest valid JSON.
        try {
          const doc = JSON.parse(b.toString('utf8')) as unknown;
          const scalars: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
          const stack: unknown[] = [doc];
          while (stack.length > 0) {
            const v = stack.pop();
            if (v && typeof v === 'object')
              for (const [k, c] of Object.entries(v)) {
                if (c && typeof c === 'object') stack.push(c);
                else
                  scalars.push({
                    parent: v as Record<string, unknown>,
                    key: Array.isArray(v) ? Number(k) : k,
                  });
              }
          }
          const target = scalars[m.at % Math.max(1, scalars.length)];
          if (target) (target.parent as Record<string | number, unknown>)[target.key] = m.value;
          b = Buffer.from(JSON.stringify(doc));
        } catch {
          // Already broken by an earlier mutation: nothing to retype.
        }
        break;
      }
      case 'gzip': {
        const gz = zlib.gzipSync(b);
        b = m.truncateAt === null ? gz : gz.subarray(0, m.truncateAt % (gz.length + 1));
        break;
      }
    }
  }
  return b;
}

/** Options for {@link runFuzz}. */
export interface FuzzOptions {
  runs: number;
  seed: number;
  /** Per-case limit: a case running longer is a hang. */
  timeoutMs: number;
}

/** Runs the property; throws (with fast-check's counterexample and seed) when it fails. */
export async function runFuzz(options: FuzzOptions): Promise<void> {
  const inputs = seeds();
  const dir = tempDir();
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: inputs.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      async (which, mutations) => {
        n++;
        const caseDir = path.join(dir, String(n));
        fs.mkdirSync(caseDir);
        const file = path.join(caseDir, 'mutated.json');
        fs.writeFileSync(file, mutate(inputs[which] as string, mutations));
        const db = path.join(caseDir, 'x.db');
        const r = await cli(['--db', db, 'ingest', '-q', bad('good-1.json'), file, bad('good-2.json')]);
        if (r.code !== 0 && r.code !== 3) throw new Error(`exit ${r.code}: ${r.err}`);
        if (/internal error/.test(r.err)) throw new Error(r.err);
        const state = inspect(db);
        if (state.integrity !== 'ok' || state.foreignKeys !== 0)
          throw new Error(`inconsistent: ${JSON.stringify(state)}`);
        if (r.code === 3) {
          if (!r.err.includes(`rejected ${file}`))
            throw new Error(`rejection does not name the file: ${r.err}`);
          const { traces, segments, calls, workloads, sources } = state;
          if (
            JSON.stringify({ traces, segments, calls, workloads }) !== JSON.stringify(GOOD_ONLY) ||
            sources.includes(file)
          )
            throw new Error(`a rejected file left data behind: ${JSON.stringify(state)}`);
        } else if (state.traces < GOOD_ONLY.traces || !state.sources.includes(file)) {
          throw new Error(`an ingested file lost the good files' data: ${JSON.stringify(state)}`);
        }
        // Exactly once: the same mutated file again changes no counts.
        const again = await cli(['--db', db, 'ingest', '-q', file]);
        const after = inspect(db);
        if (again.code !== r.code || after.calls !== state.calls || after.segments !== state.segments)
          throw new Error(`re-ingest changed the outcome: ${again.code} ${JSON.stringify(after)}`);
        fs.rmSync(caseDir, { recursive: true, force: true });
      },
    ),
    { numRuns: options.runs, seed: options.seed, timeout: options.timeoutMs, markInterruptAsFailure: true },
  );
}
