/**
 * Turning an input's bytes into prepared items, on this thread or on a worker thread.
 *
 * Why a worker: splitting, `JSON.parse` and extraction cost about as much as the SQLite writes;
 * on two cores, parsing on a worker while this thread writes nearly halves the time. The worker
 * is bounded by flow control: at most {@link MAX_IN_FLIGHT} chunks are with it at once, so memory
 * stays flat however fast it runs.
 */
import { Worker } from 'node:worker_threads';
import { DumpFormatError } from '../shared/errors.js';
import type { PreparedItem } from '../store/write/index.js';
import { Preparer } from './wire.js';
import { InputMemoryError } from './errors.js';
import type { InputSpec } from './read.js';
import { MAX_VALUE_BYTES, ShapeReader, STREAM_KEYS, type DumpShape } from './shapes.js';
import { JsonSplitter, type SplitEvent, type WholeValue } from '../json/split.js';
import type { DumpItem } from './shapes.js';

/** Items prepared from one chunk of input, with where reading got to. */
export interface ParsedBatch {
  items: PreparedItem[];
  /** Offset of the last value started (for error messages about what follows). */
  lastOffset: number;
}

/** What the whole input turned out to be. */
export interface ParseEnd {
  shape: DumpShape;
  bytesSeen: number;
  /** Provenance of a file the worker read itself ({@link ParseWorker.parseFile}). */
  source?: { sha256: string; rawBytes: number };
}

/** Options for parsing one input. */
export interface ParseOptions {
  /** Name used in problem reports (`file @ byte N`). */
  name: string;
  wholeLimit?: number;
  /** An OTLP resource larger than this is read span by span (default 8 MiB; tests lower it). */
  streamLimit?: number;
}

/** Spans prepared as one item at most (a chunk of input holds a few thousand). */
const MAX_SPANS_PER_ITEM = 20_000;

/** Parses on the calling thread. */
export async function* parseInline(
  chunks: AsyncIterable<Buffer>,
  options: ParseOptions,
): AsyncGenerator<ParsedBatch, ParseEnd> {
  const state = new ParseState(options);
  for await (const chunk of chunks) yield state.push(chunk);
  yield state.finish();
  return state.end();
}

/** The splitter and shape reader of one input, shared by both ways of parsing. */
export class ParseState {
  private readonly splitter: JsonSplitter;
  private readonly shapes = new ShapeReader();
  private readonly preparer = new Preparer();
  private lastOffset = 0;
  /** Of the strings whose lone surrogates were replaced, those already reported as a problem. */
  private surrogatesReported = 0;

  constructor(private readonly options: ParseOptions) {
    this.splitter = new JsonSplitter({
      wholeLimit: options.wholeLimit,
      streamLimit: options.streamLimit,
      streamKeys: STREAM_KEYS,
      // A value parsed whole must fit the worker's heap: larger ones are streamed (large-value.ts).
      streamAnyAbove: MAX_VALUE_BYTES,
    });
  }

  push(chunk: Buffer): ParsedBatch {
    return this.batch(this.splitter.push(chunk));
  }

  finish(): ParsedBatch {
    return this.batch(this.splitter.end());
  }

  end(): ParseEnd {
    return { shape: this.shapes.shape, bytesSeen: this.splitter.bytesSeen };
  }

  private batch(events: SplitEvent[]): ParsedBatch {
    const items: PreparedItem[] = [];
    // Spans read from one chunk are prepared together (one record per line otherwise makes one
    // item per span): a trace's spans then mostly share an item, so that the rollups can add
    // their calls instead of recounting the day (store/write/writer.ts), and a span finds its parent here.
    let spans: (DumpItem & { kind: 'spans' }) | undefined;
    const push = (item: PreparedItem, where: string): void => {
      items.push(item);
      // Lone surrogates replaced while reading (json/parse.ts): counted as a problem of the data.
      const replaced = this.shapes.surrogates.replaced - this.surrogatesReported;
      if (replaced > 0 && item.kind === 'docs') {
        this.surrogatesReported += replaced;
        item.problems.push({
          path: where,
          message: `${replaced} string${replaced > 1 ? 's' : ''} held an escaped lone UTF-16 surrogate (such as \\ud800), which no UTF-8 text can hold: replaced by U+FFFD`,
        });
      }
    };
    const flush = (): void => {
      const where = `${this.options.name} @ byte ${spans?.offset}`;
      if (spans) push(this.preparer.prepare(spans, where), where);
      spans = undefined;
    };
    for (const ev of events) {
      for (const { item, where } of this.read(ev)) {
        if (item.kind === 'spans') {
          if (spans) for (const s of item.spans) spans.spans.push(s);
          else spans = { ...item, spans: [...item.spans] };
          if (spans.spans.length >= MAX_SPANS_PER_ITEM) flush();
          continue;
        }
        flush();
        push(this.preparer.prepare(item, where), where);
      }
    }
    flush();
    return { items, lastOffset: this.lastOffset };
  }

  private read(ev: SplitEvent): { item: DumpItem; where: string }[] {
    this.lastOffset = ev.offset;
    let read: DumpItem[];
    try {
      read = this.shapes.read(ev);
    } catch (err) {
      if (ev.kind !== 'whole' || !ev.unchecked) throw err;
      // Delimited without a scan and not valid: scan it for the exact error, or the values it holds.
      return rescan(ev).flatMap((inner) => this.read(inner));
    }
    const where = `${this.options.name} @ byte ${ev.offset}`;
    return read.map((item) => ({ item, where }));
  }
}

/** Splits a fast-path value again byte by byte (offsets and messages stay those of the input). */
function rescan(ev: WholeValue): SplitEvent[] {
  const splitter = new JsonSplitter({ fast: false, wholeLimit: Infinity, offset: ev.offset });
  return [...splitter.push(ev.bytes), ...splitter.end()];
}

/** Messages to the worker. */
export type ToWorker =
  | { type: 'start'; input: number; options: ParseOptions }
  | { type: 'chunk'; input: number; bytes: Uint8Array }
  | { type: 'end'; input: number }
  | { type: 'read'; input: number; options: ParseOptions; spec: InputSpec }
  | { type: 'ack'; input: number }
  | { type: 'stop'; input: number };

/**
 * Messages from the worker. Batches travel as JSON text: cloning one string is a copy, while
 * structured cloning of the items (or even of their tuples) costs several times as much.
 */
export type FromWorker =
  | { type: 'batch'; input: number; batch: string; read?: number }
  | { type: 'end'; input: number; batch: string; end: ParseEnd; read?: number }
  | {
      type: 'error';
      input: number;
      read?: number;
      /** format: the input is not a readable dump; io: the file or gzip stream failed. */
      kind: 'format' | 'io' | 'other';
      message: string;
      offset: number | undefined;
      hint?: string;
      code?: string;
      syscall?: string;
    };

/**
 * Chunks (256 KiB) handed to the worker and not yet answered: 8 MiB, enough for the worker to
 * keep parsing while the writer adds a chunk of calls to the rollups (measured: 16 → 32 gave
 * ~3% on 256 MB; 64 no more, for 10 MB more RSS).
 */
const MAX_IN_FLIGHT = 32;

/**
 * Batches a worker reading a file itself may send ahead of the writer (each is one 256 KiB chunk
 * of input, ~50 KB of JSON): enough to keep parsing through the writer's longest pause (adding a
 * chunk of calls to the rollups, ~150 ms) without letting memory grow with the input.
 */
export const MAX_UNACKED = 64;

/** A parse worker reused across the inputs of one ingest run. */
export class ParseWorker {
  private readonly worker: Worker;
  private input = 0;
  /** Messages as they arrive, then sorted per input by {@link take}. */
  private readonly queue: FromWorker[] = [];
  private readonly pending = new Map<number, FromWorker[]>();
  /** Inputs given up part-way: their remaining messages are dropped. */
  private readonly abandoned = new Set<number>();
  private wake: (() => void) | undefined;
  private failure: Error | undefined;

  /** `heapMb`: the worker's heap limit (default {@link WORKER_HEAP_MB}; tests lower it). */
  constructor(private readonly heapMb = WORKER_HEAP_MB) {
    this.worker = startWorker(heapMb);
    this.worker.on('message', (m: FromWorker) => {
      this.queue.push(m);
      this.wake?.();
    });
    this.worker.on('error', (err) => {
      // The heap limit reached: the input being read is refused (ingest.ts starts another worker).
      this.failure =
        (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new InputMemoryError(this.heapMb)
          : err;
      this.wake?.();
    });
    this.worker.on('exit', (code) => {
      this.failure ??= new Error(`the parse worker stopped (exit code ${code})`);
      this.wake?.();
    });
  }

  /** Parses one input on the worker; same contract as {@link parseInline}. */
  parse(chunks: AsyncIterable<Buffer>, options: ParseOptions): AsyncGenerator<ParsedBatch, ParseEnd> {
    const input = ++this.input;
    this.worker.postMessage({ type: 'start', input, options } satisfies ToWorker);
    const source = chunks[Symbol.asyncIterator]();
    let inFlight = 0;
    let sentEnd = false;
    return this.batchesOf(input, {
      // Keep at most MAX_IN_FLIGHT chunks with the worker.
      beforeTake: async () => {
        while (!sentEnd && inFlight < MAX_IN_FLIGHT) {
          const next = await source.next();
          if (next.done) {
            this.worker.postMessage({ type: 'end', input } satisfies ToWorker);
            sentEnd = true;
          } else {
            this.worker.postMessage({ type: 'chunk', input, bytes: next.value } satisfies ToWorker);
          }
          inFlight++;
        }
      },
      onMessage: () => inFlight--,
    });
  }

  /**
   * Asks the worker to read, parse and prepare a whole file, and returns the input's number for
   * {@link parseFile}. Files are read in the order asked: asking for the next few before
   * writing the current one keeps the worker busy meanwhile (many small files).
   */
  request(spec: InputSpec, options: ParseOptions): number {
    const input = ++this.input;
    this.worker.postMessage({ type: 'read', input, options, spec } satisfies ToWorker);
    return input;
  }

  /**
   * The batches of a file asked for with {@link request}: this thread then only writes, and the
   * worker never waits for it to hand over bytes. The end carries the file's sha256 and size.
   */
  parseFile(
    input: number,
    /** Told the bytes read from disk so far, with every batch (and on failure). */
    onRead: (bytes: number) => void,
  ): AsyncGenerator<ParsedBatch, ParseEnd> {
    return this.batchesOf(input, {
      onMessage: (m) => {
        if (m.read !== undefined) onRead(m.read);
        this.ack(m);
      },
    });
  }

  /** An input's batches as the worker sends them; given up part-way, the worker is told to stop. */
  private async *batchesOf(
    input: number,
    hooks: { beforeTake?: () => Promise<void>; onMessage: (m: FromWorker) => void },
  ): AsyncGenerator<ParsedBatch, ParseEnd> {
    let done = false;
    try {
      for (;;) {
        await hooks.beforeTake?.();
        const m = await this.take(input);
        hooks.onMessage(m);
        if (m.type === 'error') {
          done = true;
          throw rebuildError(m);
        }
        yield JSON.parse(m.batch) as ParsedBatch;
        if (m.type === 'end') {
          done = true;
          return m.end;
        }
      }
    } finally {
      if (!done) this.abandon(input);
    }
  }

  /** The next message for `input`; those for later inputs wait their turn. */
  private async take(input: number): Promise<FromWorker> {
    for (;;) {
      const mine = this.pending.get(input);
      const waiting = mine?.shift();
      if (waiting) return waiting;
      const m = this.queue.shift();
      if (m) {
        if (m.input === input) return m;
        if (this.abandoned.has(m.input)) this.ack(m);
        else {
          const list = this.pending.get(m.input);
          if (list) list.push(m);
          else this.pending.set(m.input, [m]);
        }
        continue;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Tells a worker reading a file that a batch was taken (its read-ahead is bounded by these). */
  private ack(m: FromWorker): void {
    if (m.type === 'batch' && m.read !== undefined)
      this.worker.postMessage({ type: 'ack', input: m.input } satisfies ToWorker);
  }

  private abandon(input: number): void {
    this.abandoned.add(input);
    this.worker.postMessage({ type: 'stop', input } satisfies ToWorker);
    for (const m of this.pending.get(input) ?? []) this.ack(m);
    this.pending.delete(input);
  }

  /** True once the worker has died (its heap limit reached): start another for the next input. */
  get dead(): boolean {
    return this.failure !== undefined;
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/** The error a worker reported, as the class the inline path would have thrown. */
function rebuildError(m: Extract<FromWorker, { type: 'error' }>): Error {
  if (m.kind === 'format')
    return new DumpFormatError(m.message, {
      hint: m.hint,
      position: m.offset === undefined ? undefined : { offset: m.offset },
    });
  if (m.kind === 'io') return Object.assign(new Error(m.message), { code: m.code, syscall: m.syscall });
  return new Error(m.message);
}

/** A failure as a message: what {@link rebuildError} needs to throw the same error again. */
export function describeFailure(err: unknown, input: number): FromWorker {
  const e = err as Error & { offset?: number; hint?: string; code?: unknown; syscall?: unknown };
  const base = { type: 'error', input, message: e?.message ?? String(err) } as const;
  // Splitter, JSON, shape and gzip-limit errors alike: a message, a position and a hint.
  if (err instanceof DumpFormatError)
    return { ...base, kind: 'format', offset: err.position?.offset, hint: err.hint };
  if (typeof e?.code === 'string')
    return {
      ...base,
      kind: 'io',
      offset: undefined,
      code: e.code,
      syscall: typeof e.syscall === 'string' ? e.syscall : undefined,
    };
  return { ...base, kind: 'other', offset: undefined };
}

/**
 * The parse worker's old-generation heap. What it holds is bounded below this by design
 * (docs/memory.md): the interning tables (wire.ts MAX_INTERNED, 2 × 8 MiB; extract-span.ts and
 * the span workloads, 2 MiB each), one value read whole (shapes.ts MAX_VALUE_HEAP, 32 MiB) and
 * the batch being prepared. Reaching it refuses the input being read ({@link InputMemoryError}).
 */
export const WORKER_HEAP_MB = 80;

function startWorker(heapMb: number): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from source under tsx (the tests): the worker needs tsx's loader as well.
    const url = new URL('./worker.ts', here).href;
    return new Worker(
      `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url)}); });`,
      {
        eval: true,
      },
    );
  }
  // Bounded heap: the worker holds a few chunks and their items at a time, never more.
  return new Worker(new URL('./worker.js', here), {
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 16 },
  });
}
