/**
 * The parse worker: splits, parses and extracts one input at a time and sends back prepared
 * items (see parse.ts). Either it is sent the input's chunks (standard input), or it reads the
 * file itself, running ahead of the writer by at most MAX_UNACKED batches.
 */
import { parentPort } from 'node:worker_threads';
import {
  describeFailure,
  MAX_UNACKED,
  ParseState,
  type FromWorker,
  type ParseOptions,
  type ToWorker,
} from './parse.js';
import { openInput } from './read.js';

const port = parentPort;
if (!port) throw new Error('parse-worker.ts runs as a worker thread only');

let state: ParseState | undefined;
let input = 0;
let failed = false;
/** Batches of the file being read that the writer has taken. */
let acked = 0;
let wake: (() => void) | undefined;

port.on('message', (m: ToWorker) => {
  if (m.type === 'read') {
    input = m.input;
    acked = 0;
    void readFile(m.input, m.options, m.file);
    return;
  }
  if (m.type === 'ack' || m.type === 'stop') {
    if (m.input !== input) return;
    if (m.type === 'ack') acked++;
    else input = 0; // readFile notices and stops
    wake?.();
    return;
  }
  if (m.type === 'start') {
    input = m.input;
    state = new ParseState(m.options);
    failed = false;
    return;
  }
  if (m.input !== input || failed || !state) return;
  try {
    if (m.type === 'chunk') {
      const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
      port.postMessage({
        type: 'batch',
        input,
        batch: JSON.stringify(state.push(bytes)),
      } satisfies FromWorker);
    } else {
      const batch = state.finish();
      port.postMessage({
        type: 'end',
        input,
        batch: JSON.stringify(batch),
        end: state.end(),
      } satisfies FromWorker);
    }
  } catch (err) {
    failed = true;
    port.postMessage(describeFailure(err, input));
  }
});

async function readFile(me: number, options: ParseOptions, file: string): Promise<void> {
  const parse = new ParseState(options);
  const opened = openInput({ name: options.name, file });
  let sent = 0;
  try {
    for await (const chunk of opened.chunks) {
      if (input !== me) return; // stopped: leaving the loop closes the file
      const batch = JSON.stringify(parse.push(chunk));
      port!.postMessage({ type: 'batch', input: me, batch, read: opened.rawBytes() } satisfies FromWorker);
      sent++;
      while (input === me && sent - acked >= MAX_UNACKED) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    }
    if (input !== me) return;
    const batch = JSON.stringify(parse.finish());
    const end = { ...parse.end(), source: { sha256: opened.digest(), rawBytes: opened.rawBytes() } };
    port!.postMessage({ type: 'end', input: me, batch, end, read: opened.rawBytes() } satisfies FromWorker);
  } catch (err) {
    if (input === me)
      port!.postMessage({ ...describeFailure(err, me), read: opened.rawBytes() } as FromWorker);
  }
}
