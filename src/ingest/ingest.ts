/**
 * `ingest`: read → split → recognise → extract → write, one input at a time, each input in its
 * own savepoint so that a bad file contributes nothing and the others still land.
 */
import { DumpFormatError } from '../shared/errors.js';
import {
  openWriter,
  type InputWriter,
  type SettledFallbacks,
  type Store,
  type StoreWriter,
  type WriteCounts,
} from '../store/write/index.js';
import type { DataProblem } from './extract.js';
import { expandInputs, lineColumnOf, openInput, type InputSpec, type OpenedInput } from './read.js';
import { parseInline, ParseWorker, type ParseEnd } from './pipeline.js';
import { InputMemoryError } from './errors.js';
import { ShapeError, type DumpShape } from './shapes.js';

/** Progress of the input being read, reported a few times a second. */
export interface IngestProgress {
  input: string;
  index: number;
  inputs: number;
  /** Bytes of this input read from disk (compressed bytes for gzip). */
  bytes: number;
  /** Size of this input on disk, when known (not for stdin). */
  size: number | undefined;
  traces: number;
  /** Bytes read from disk over all inputs so far. */
  totalBytes: number;
  /** Size on disk of all inputs, when every one is a file. */
  totalSize: number | undefined;
  elapsedMs: number;
}

/** Options for {@link ingest}. */
export interface IngestOptions {
  /** Files, directories, or `-` for standard input. */
  inputs: readonly string[];
  stdin?: NodeJS.ReadableStream;
  onProgress?: (p: IngestProgress) => void;
  /** Splitter threshold above which one JSON value is read member by member (tests lower it). */
  wholeLimit?: number;
  /** Size above which one OTLP resource is read span by span with a streaming parser (tests lower it). */
  streamLimit?: number;
  /** The parse worker's heap limit in MiB (default pipeline.ts WORKER_HEAP_MB; tests lower it). */
  workerHeapMb?: number;
  /** Parse on a worker thread: always, never, or (default) when the inputs total over 4 MiB, or for stdin. */
  parallel?: 'auto' | boolean;
}

/** Why an input was rejected, with where and what to do. */
export interface InputRejection {
  message: string;
  offset?: number;
  line?: number;
  column?: number;
  hint?: string;
}

/** The outcome for one input. */
export interface InputResult {
  input: string;
  status: 'ingested' | 'rejected';
  shape: string | null;
  bytes: number;
  sha256: string | null;
  counts: WriteCounts | null;
  problems: DataProblem[];
  error: InputRejection | null;
  elapsedMs: number;
}

/** What an ingest run did, as the CLI prints it (`--json` prints this object). */
export interface IngestSummary extends Pick<
  WriteCounts,
  | 'traces'
  | 'newTraces'
  | 'segments'
  | 'calls'
  | 'newSegments'
  | 'newCalls'
  | 'duplicateSegments'
  | 'replacedSegments'
  | 'callOnlySpans'
  | 'trailEvents'
  | 'newTrailEvents'
  | 'problems'
> {
  inputs: number;
  ingested: number;
  rejected: number;
  /** Workloads in the database after the run. */
  workloads: number;
  /**
   * OpenTelemetry calls of Lambda functions whose trace held no span with the function's account:
   * stored under the workload their resource alone gives (`lambda::region:name`).
   */
  fallbacks: SettledFallbacks;
  bytes: number;
  elapsedMs: number;
  mbPerSecond: number;
  results: InputResult[];
}

/** Ingests every input into `store`. Never throws for bad input: rejections are in the summary. */
export async function ingest(store: Store, options: IngestOptions): Promise<IngestSummary> {
  const started = performance.now();
  const { specs, problems } = expandInputs(options.inputs);
  const results: InputResult[] = problems.map((p) => ({
    input: p.name,
    status: 'rejected',
    shape: null,
    bytes: 0,
    sha256: null,
    counts: null,
    problems: [],
    error: { message: p.message, hint: 'check the path' },
    elapsedMs: 0,
  }));
  let totalBytes = 0;
  let totalSize: number | undefined = 0;
  for (const spec of specs) {
    const size = spec.size;
    totalSize = size === undefined || totalSize === undefined ? undefined : totalSize + size;
  }
  let parseWorker: ParseWorker | undefined;
  const worker = (): ParseWorker => (parseWorker ??= new ParseWorker(options.workerHeapMb));
  const mode = options.parallel ?? 'auto';
  // One decision per run: a directory of small files is parsed on the worker too, a few ahead.
  const parallel = mode === 'auto' ? totalSize === undefined || totalSize > WORKER_MIN_BYTES : mode;
  const requested = new Map<number, number>();
  const requestAhead = (from: number): void => {
    for (let j = from; j < Math.min(specs.length, from + READ_AHEAD_INPUTS); j++) {
      const spec = specs[j] as InputSpec;
      if (spec.file === undefined || requested.has(j)) continue;
      requested.set(
        j,
        worker().request(spec, {
          name: spec.name,
          wholeLimit: options.wholeLimit,
          streamLimit: options.streamLimit,
        }),
      );
    }
  };
  // Inputs are written in groups of savepoints (store/write/writer.ts): a rejected input is undone alone.
  const writer = openWriter(store);
  let fallbacks: SettledFallbacks = { calls: 0, workloads: [] };
  try {
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i] as InputSpec;
      if (parallel) requestAhead(i);
      const how: ParseHow = !parallel
        ? { on: 'this thread' }
        : requested.has(i)
          ? { on: 'worker file', worker: worker(), input: requested.get(i) as number }
          : { on: 'worker chunks', worker: worker() };
      const r = await ingestOne(writer, spec, options, how, (bytes, size, traces) => {
        options.onProgress?.({
          input: spec.name,
          index: i,
          inputs: specs.length,
          bytes,
          size,
          traces,
          totalBytes: totalBytes + bytes,
          totalSize,
          elapsedMs: performance.now() - started,
        });
      });
      totalBytes += r.bytes;
      results.push(r);
      if (parseWorker?.dead) {
        // It reached its heap limit on this input (refused): the next inputs get a fresh worker.
        await parseWorker.close();
        parseWorker = undefined;
        requested.clear();
      }
    }
    fallbacks = writer.finish();
  } catch (err) {
    // The failing input was rolled back to its savepoint: keep the whole inputs before it.
    writer.salvage();
    throw err;
  } finally {
    await parseWorker?.close();
    writer.close();
  }
  const elapsedMs = performance.now() - started;
  const sum = (f: (c: WriteCounts) => number): number =>
    results.reduce((a, r) => a + (r.status === 'ingested' && r.counts ? f(r.counts) : 0), 0);
  const workloads = writer.workloads();
  return {
    inputs: results.length,
    ingested: results.filter((r) => r.status === 'ingested').length,
    rejected: results.filter((r) => r.status === 'rejected').length,
    traces: sum((c) => c.traces),
    newTraces: sum((c) => c.newTraces),
    segments: sum((c) => c.segments),
    calls: sum((c) => c.calls),
    newSegments: sum((c) => c.newSegments),
    newCalls: sum((c) => c.newCalls),
    duplicateSegments: sum((c) => c.duplicateSegments),
    replacedSegments: sum((c) => c.replacedSegments),
    callOnlySpans: sum((c) => c.callOnlySpans),
    trailEvents: sum((c) => c.trailEvents),
    newTrailEvents: sum((c) => c.newTrailEvents),
    problems: sum((c) => c.problems),
    workloads,
    fallbacks,
    bytes: totalBytes,
    elapsedMs,
    mbPerSecond: elapsedMs > 0 ? totalBytes / 1e6 / (elapsedMs / 1000) : 0,
    results,
  };
}

async function ingestOne(
  run: StoreWriter,
  spec: InputSpec,
  options: IngestOptions,
  how: ParseHow,
  progress: (bytes: number, size: number | undefined, traces: number) => void,
): Promise<InputResult> {
  const started = performance.now();
  const parseOptions = { name: spec.name, wholeLimit: options.wholeLimit, streamLimit: options.streamLimit };
  const size = spec.size;
  // A file parsed on the worker is also read there: this thread only writes.
  const opened = how.on === 'worker file' ? undefined : openInput(spec, { stdin: options.stdin });
  let read = 0;
  const batches =
    how.on === 'worker file'
      ? how.worker.parseFile(how.input, (n) => (read = n))
      : how.on === 'worker chunks'
        ? how.worker.parse((opened as OpenedInput).chunks, parseOptions)
        : parseInline((opened as OpenedInput).chunks, parseOptions);
  const rawBytes = (): number => opened?.rawBytes() ?? read;
  // All of this input, or none of it (its own savepoint).
  let writer: InputWriter | undefined;
  let lastOffset = 0;
  let shape: DumpShape | null = null;
  try {
    writer = run.openInput(spec.name);
    let lastReport = 0;
    let end: ParseEnd;
    for (;;) {
      const next = await batches.next();
      if (next.done) {
        end = next.value;
        break;
      }
      lastOffset = next.value.lastOffset;
      for (const item of next.value.items) writer.write(item);
      const now = performance.now();
      if (now - lastReport > 200) {
        lastReport = now;
        progress(rawBytes(), size, writer.counts.traces);
      }
    }
    shape = end.shape;
    const c = writer.counts;
    if (end.shape === 'empty' && c.documents === 0 && c.traces === 0 && c.unprocessedTraceIds === 0) {
      throw new ShapeError(
        end.bytesSeen === 0 ? 'the input is empty' : 'the input holds no JSON value',
        0,
        'an export that was cut off or failed leaves an empty file: export it again',
      );
    }
    const sha256 = end.source?.sha256 ?? (opened as OpenedInput).digest();
    writer.finish({
      sha256,
      size: rawBytes(),
      shape: end.shape,
      elapsedMs: performance.now() - started,
    });
    return {
      input: spec.name,
      status: 'ingested',
      shape: end.shape,
      bytes: rawBytes(),
      sha256,
      counts: writer.counts,
      problems: writer.problems,
      error: null,
      elapsedMs: performance.now() - started,
    };
  } catch (err) {
    writer?.abandon(rawBytes());
    await batches.return?.(undefined as never).catch(() => undefined);
    const error = await describe(err, spec, lastOffset);
    if (error === undefined) throw err;
    // The input is abandoned; its bytes so far still count for the summary.
    return {
      input: spec.name,
      status: 'rejected',
      shape: shape === 'empty' ? null : shape,
      bytes: rawBytes(),
      sha256: null,
      counts: null,
      problems: writer?.problems ?? [],
      error,
      elapsedMs: performance.now() - started,
    };
  }
}

/** Where an input is parsed: here, or on the worker (which reads files itself). */
type ParseHow =
  | { on: 'this thread' }
  | { on: 'worker file'; worker: ParseWorker; input: number }
  | { on: 'worker chunks'; worker: ParseWorker };

/** Parsing on a worker pays off past a few MiB in all (standard input may be anything: it gets one). */
const WORKER_MIN_BYTES = 4 * 1024 * 1024;
/** Files the worker is asked to read ahead of the one being written. */
const READ_AHEAD_INPUTS = 8;

/** Turns a failure into a rejection message with position, or undefined for a bug. */
async function describe(
  err: unknown,
  spec: InputSpec,
  lastOffset: number,
): Promise<InputRejection | undefined> {
  let offset: number | undefined;
  let message: string;
  let hint: string | undefined;
  if (err instanceof InputMemoryError) {
    // Where reading had got to (the worker died without saying).
    offset = lastOffset;
    message = new InputMemoryError(err.limitMb, lastOffset).message;
    hint = err.hint;
  } else if (err instanceof DumpFormatError) {
    // Splitter, shape and gzip-limit errors: the input is not a dump we can read.
    offset = err.position?.offset;
    message = err.message;
    hint = err.hint;
  } else if (
    (err as NodeJS.ErrnoException)?.code === 'Z_DATA_ERROR' ||
    (err as NodeJS.ErrnoException)?.code === 'Z_BUF_ERROR'
  ) {
    message = `corrupt gzip data: ${(err as Error).message}`;
    hint = 'the compressed file is damaged or truncated: copy it again';
    offset = lastOffset;
  } else if (
    (err as NodeJS.ErrnoException)?.code &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string'
  ) {
    message = `cannot read: ${(err as Error).message}`;
  } else {
    return undefined;
  }
  const pos = offset !== undefined ? await lineColumnOf(spec, offset) : undefined;
  return { message, offset, line: pos?.line, column: pos?.column, hint };
}
