/**
 * The parse worker: splits, parses and extracts the chunks it is sent, one input at a time, and
 * sends back prepared items (see parse.ts).
 */
import { parentPort } from 'node:worker_threads';
import { ParseState, type FromWorker, type ToWorker } from './parse.js';
import { ShapeError } from './shapes.js';
import { SplitError } from './split.js';

const port = parentPort;
if (!port) throw new Error('parse-worker.ts runs as a worker thread only');

let state: ParseState | undefined;
let input = 0;
let failed = false;

port.on('message', (m: ToWorker) => {
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
    const e = err as Error & { offset?: number; hint?: string };
    const kind = err instanceof SplitError ? 'split' : err instanceof ShapeError ? 'shape' : 'other';
    port.postMessage({
      type: 'error',
      input,
      kind,
      message: e.message,
      offset: e.offset ?? 0,
      hint: e.hint,
    } satisfies FromWorker);
  }
});
