/**
 * The parse worker: splits, parses and extracts inputs and sends back prepared items (see
 * pipeline.ts). Either it is sent an input's chunks (standard input), or it reads files itself, in
 * the order asked, running ahead of the writer by at most MAX_UNACKED batches.
 */
import { parentPort } from 'node:worker_threads';
import {
  describeFailure,
  MAX_UNACKED,
  ParseState,
  type FromWorker,
  type ParseOptions,
  type ToWorker,
} from './pipeline.js';
import { openInput, type InputSpec } from './read.js';

const port = parentPort;
if (!port) throw new Error('worker.ts runs as a worker thread only');

// Chunk mode (standard input): one input at a time, as its chunks arrive.
let chunked: { input: number; state: ParseState; failed: boolean } | undefined;

// File mode: files to read, in order; batches sent and taken (over all files).
const requests: { input: number; options: ParseOptions; spec: InputSpec }[] = [];
const stopped = new Set<number>();
let reading = false;
let sent = 0;
let acked = 0;
let wake: (() => void) | undefined;

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'read':
      requests.push(m);
      if (!reading) void readAll();
      return;
    case 'ack':
      acked++;
      wake?.();
      return;
    case 'stop':
      stopped.add(m.input);
      if (chunked?.input === m.input) chunked = undefined;
      wake?.();
      return;
    case 'start':
      chunked = { input: m.input, state: new ParseState(m.options), failed: false };
      return;
    case 'chunk':
    case 'end': {
      const c = chunked;
      if (!c || c.input !== m.input || c.failed) return;
      try {
        if (m.type === 'chunk') {
          const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
          const batch = JSON.stringify(c.state.push(bytes));
          port.postMessage({ type: 'batch', input: c.input, batch } satisfies FromWorker);
        } else {
          const batch = JSON.stringify(c.state.finish());
          port.postMessage({ type: 'end', input: c.input, batch, end: c.state.end() } satisfies FromWorker);
        }
      } catch (err) {
        c.failed = true;
        port.postMessage(describeFailure(err, c.input));
      }
    }
  }
});

async function readAll(): Promise<void> {
  reading = true;
  for (let r = requests.shift(); r; r = requests.shift()) {
    if (!stopped.has(r.input)) await readFile(r.input, r.options, r.spec);
  }
  reading = false;
}

async function readFile(me: number, options: ParseOptions, spec: InputSpec): Promise<void> {
  const parse = new ParseState(options);
  const opened = openInput(spec);
  try {
    for await (const chunk of opened.chunks) {
      if (stopped.has(me)) return; // leaving the loop closes the file
      const batch = JSON.stringify(parse.push(chunk));
      port!.postMessage({ type: 'batch', input: me, batch, read: opened.rawBytes() } satisfies FromWorker);
      sent++;
      while (!stopped.has(me) && sent - acked >= MAX_UNACKED) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    }
    if (stopped.has(me)) return;
    const batch = JSON.stringify(parse.finish());
    const end = { ...parse.end(), source: { sha256: opened.digest(), rawBytes: opened.rawBytes() } };
    port!.postMessage({ type: 'end', input: me, batch, end, read: opened.rawBytes() } satisfies FromWorker);
  } catch (err) {
    if (!stopped.has(me))
      port!.postMessage({ ...describeFailure(err, me), read: opened.rawBytes() } as FromWorker);
  }
}
