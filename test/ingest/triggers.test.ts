/**
 * Triggers seen in the traces: the CONSUMER span the Lambda instrumentation starts for an SQS
 * event names the queue; the function's workload keeps it (attrs `triggers`), and its policy
 * grants the event-source mapping's polling on exactly that queue.
 */
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { triggerOf } from '../../src/ingest/extract-span.js';
import type { Span } from '../../src/ingest/spans.js';
import { buildPolicies } from '../../src/policy/build.js';
import type { Store } from '../../src/store/db.js';
import { tempStore, writeFile } from '../support/helpers.js';
import { sqsInvocation } from '../support/shards.js';

const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:sqs-consumer';
const QUEUE = 'arn:aws:sqs:eu-west-1:123456789012:orders-in';
const POLL = ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'].map(
  (a) => `${a} ${QUEUE}`,
);

function stored(store: Store): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const w of store.prepare('SELECT key, attrs FROM workloads').all() as { key: string; attrs: string }[])
    out[w.key] = ((JSON.parse(w.attrs) as { triggers?: string[] }).triggers ?? []).sort();
  return out;
}

function polling(store: Store): string[] {
  return buildPolicies(store, { filter: {} })
    .policies.flatMap((p) => p.documents.flatMap((d) => d.Statement))
    .filter((s) => s.Sid.startsWith('Runtime'))
    .flatMap((s) =>
      s.Action.filter((a) => a.startsWith('sqs:')).flatMap((a) => s.Resource.map((r) => `${a} ${r}`)),
    )
    .sort();
}

const CASES: { name: string; files: string[]; triggers: Record<string, string[]>; poll: string[] }[] = [
  {
    name: 'the SERVER span in the same input (after its children, as exporters send them)',
    files: [sqsInvocation({ trace: 1, queue: 'orders-in' })],
    triggers: { [FN]: [QUEUE] },
    poll: POLL,
  },
  {
    name: 'the account on the resource: every span names the workload',
    files: [sqsInvocation({ trace: 1, queue: 'orders-in', accountOnResource: true })],
    triggers: { [FN]: [QUEUE] },
    poll: POLL,
  },
  {
    name: 'two queues over two inputs: both triggers',
    files: [
      sqsInvocation({ trace: 1, queue: 'orders-in' }),
      sqsInvocation({ trace: 2, queue: 'orders-retry' }),
    ],
    triggers: { [FN]: [QUEUE, `${QUEUE.replace('orders-in', 'orders-retry')}`] },
    poll: [...POLL, ...POLL.map((p) => p.replace('orders-in', 'orders-retry'))].sort(),
  },
  {
    name: 'the same invocation twice: one trigger',
    files: [sqsInvocation({ trace: 1, queue: 'orders-in' }), sqsInvocation({ trace: 1, queue: 'orders-in' })],
    triggers: { [FN]: [QUEUE] },
    poll: POLL,
  },
];

for (const c of CASES)
  test(`trigger: ${c.name}`, async (t) => {
    const { store, dir } = tempStore();
    const files = c.files.map((text, i) => writeFile(dir, `spans-${i}.jsonl`, text));
    const r = await ingest(store, { inputs: files });
    t.is(r.rejected, 0);
    t.deepEqual(stored(store), c.triggers);
    t.deepEqual(polling(store), c.poll);
  });

const span = (kind: Span['kind'], attributes: Record<string, unknown>): Span => ({
  traceId: '1-5759e988-bd862e3fe1be46a994272793',
  spanId: 'a1b2c3d4e5f60718',
  parentSpanId: null,
  name: 'x',
  kind,
  start: 0,
  end: 1,
  attributes,
  resource: {},
  status: { code: 'UNSET', message: null },
  events: [],
});
const SQS = {
  'faas.trigger': 'pubsub',
  'messaging.system': 'aws_sqs',
  'aws.sqs.queue.url': 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders-in',
};

/** What triggerOf reads, and what it refuses to read as a trigger. */
const SPANS: { name: string; span: Span; want: string | undefined }[] = [
  { name: 'the Lambda instrumentation CONSUMER span', span: span('CONSUMER', SQS), want: QUEUE },
  {
    name: 'a FIFO queue',
    span: span('CONSUMER', {
      ...SQS,
      'aws.sqs.queue.url': 'https://sqs.eu-west-1.amazonaws.com/123456789012/o.fifo',
    }),
    want: 'arn:aws:sqs:eu-west-1:123456789012:o.fifo',
  },
  {
    name: 'a China region: its partition',
    span: span('CONSUMER', {
      ...SQS,
      'aws.sqs.queue.url': 'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q',
    }),
    want: 'arn:aws-cn:sqs:cn-north-1:123456789012:q',
  },
  { name: 'an SDK ReceiveMessage call (CLIENT)', span: span('CLIENT', SQS), want: undefined },
  {
    name: 'another trigger',
    span: span('CONSUMER', { ...SQS, 'faas.trigger': 'datasource' }),
    want: undefined,
  },
  {
    name: 'another messaging system',
    span: span('CONSUMER', { ...SQS, 'messaging.system': 'kafka' }),
    want: undefined,
  },
  {
    name: 'a URL that is not a queue URL',
    span: span('CONSUMER', { ...SQS, 'aws.sqs.queue.url': 'https://example.com/x' }),
    want: undefined,
  },
  { name: 'no URL', span: span('CONSUMER', { ...SQS, 'aws.sqs.queue.url': undefined }), want: undefined },
];

for (const s of SPANS) test(`triggerOf: ${s.name}`, (t) => t.is(triggerOf(s.span), s.want));
