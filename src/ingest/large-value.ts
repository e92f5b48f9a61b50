/**
 * One value too large to hold as text and parse whole (a trace or segment document past
 * `MAX_VALUE_BYTES`, say with a 100 MB name or megabytes of metadata), read with stream-json as
 * the splitter passes its bytes on (src/json/split.ts `streamAnyAbove`) and assembled here in
 * bounded memory:
 *
 * - a string is kept up to {@link LONG_STRING_KEPT} characters: nothing longer is an identity
 *   (src/shared/values.ts `MAX_VALUE`), so its first characters say all that is read of it;
 * - except the strings that hold JSON to be parsed in turn (`Document`, `message`, `@message`),
 *   which are kept whole up to `MAX_VALUE_BYTES` and refused past it;
 * - the value as built is counted as `parsedSizeEstimate` counts text, and refused past
 *   `MAX_VALUE_HEAP`, with its position and size.
 */
import { StringDecoder } from 'node:string_decoder';
import { jsonParser, type parser } from 'stream-json/core/parser.js';
import { DumpFormatError } from '../shared/errors.js';
import { ShapeError } from './errors.js';

type Token = parser.Token;

/** Characters kept of a string that holds no JSON: past `MAX_VALUE` (2,048), so still too long to be an identity. */
export const LONG_STRING_KEPT = 4096;

/** Members whose string is JSON text, parsed after (kept whole). */
const JSON_TEXT_KEYS: ReadonlySet<string> = new Set(['Document', 'message', '@message']);

/** Characters tokenized at a time (see otlp-stream.ts). */
const FEED_SLICE = 64 * 1024;

/** Heap counted per object or array, and per other value (as `parsedSizeEstimate` does). */
const CONTAINER_BYTES = 64;
const VALUE_BYTES = 16;

type Container = unknown[] | Record<string, unknown>;

/** Limits of a {@link LargeValueStream}. */
export interface LargeValueLimits {
  /** Characters kept of a JSON-text string before the value is refused. */
  maxText: number;
  /** Memory the assembled value may take (estimated) before it is refused. */
  maxHeap: number;
  /** Called with a string that held a lone surrogate (replaced by U+FFFD). */
  onSurrogate: () => void;
}

/** Assembles one streamed value; push its pieces in order, then {@link end}. */
export class LargeValueStream {
  private readonly tokenize = jsonParser({
    packKeys: true,
    streamKeys: false,
    packStrings: false,
    streamStrings: true,
    packNumbers: true,
    streamNumbers: false,
  });
  private readonly decoder = new StringDecoder('utf8');
  private readonly stack: { value: Container; key: string | null }[] = [];
  private root: { value: unknown } | undefined;
  private string: { chunks: string[]; length: number; max: number; json: boolean } | undefined;
  private heap = 0;
  private bytes = 0;
  private offset: number;

  constructor(
    private readonly start: number,
    private readonly what: string,
    private readonly limits: LargeValueLimits,
    /** The member the value is (a `Document` string streamed on its own is JSON text too). */
    private readonly member: string | null = null,
  ) {
    this.offset = start;
  }

  /** Reads one piece. */
  push(bytes: Buffer, offset: number): void {
    this.offset = offset;
    this.bytes += bytes.length;
    this.feed(this.decoder.write(bytes));
  }

  /** The value, once its last piece is pushed; with its size in bytes and estimated memory. */
  end(): { value: unknown; bytes: number; heap: number } {
    this.feed(this.decoder.end());
    if (!this.root || this.stack.length > 0 || this.string)
      throw new ShapeError(`${this.what} ends before it is complete`, this.offset);
    return { value: this.root.value, bytes: this.bytes, heap: this.heap };
  }

  private feed(text: string): void {
    for (let i = 0; i < text.length; i += FEED_SLICE) {
      let tokens: unknown;
      try {
        tokens = this.tokenize(text.slice(i, i + FEED_SLICE));
      } catch (err) {
        throw new DumpFormatError(`invalid JSON in ${this.what}: ${(err as Error).message}`, {
          position: { offset: this.offset },
          hint: 'the text is not JSON here: the file was truncated or edited after export; export it again',
        });
      }
      const many = (tokens as { values?: Token[] } | undefined)?.values;
      if (many) for (const t of many) this.token(t);
    }
  }

  private token(t: Token): void {
    switch (t.name) {
      case 'startObject':
      case 'startArray': {
        const value: Container = t.name === 'startArray' ? [] : {};
        this.count(CONTAINER_BYTES);
        this.add(value);
        this.stack.push({ value, key: null });
        return;
      }
      case 'endObject':
      case 'endArray':
        this.stack.pop();
        return;
      case 'keyValue': {
        const top = this.stack[this.stack.length - 1];
        if (top) top.key = this.wellFormed(t.value);
        return;
      }
      case 'startString': {
        const key = this.stack.length === 0 ? this.member : (this.stack[this.stack.length - 1]?.key ?? null);
        const json = key !== null && JSON_TEXT_KEYS.has(key);
        this.string = { chunks: [], length: 0, max: json ? this.limits.maxText : LONG_STRING_KEPT, json };
        return;
      }
      case 'stringChunk': {
        const s = this.string;
        if (!s) return;
        if (s.length + t.value.length > s.max) {
          if (s.json)
            throw new ShapeError(
              `${this.what} holds a JSON string ("${this.stack[this.stack.length - 1]?.key ?? this.member}") larger than ${Math.round(s.max / 1048576)} MiB, the most read whole`,
              this.start,
              'remove or shorten its largest field (metadata, attributes) and ingest the file again, or ingest the other files without it',
            );
          // Past what anything reads of it: the rest is not kept.
          if (s.length < s.max) s.chunks.push(t.value.slice(0, s.max - s.length));
          s.length = s.max;
          return;
        }
        s.chunks.push(t.value);
        s.length += t.value.length;
        this.count(t.value.length);
        return;
      }
      case 'endString': {
        const s = this.string;
        this.string = undefined;
        this.count(VALUE_BYTES);
        this.add(this.wellFormed(s ? s.chunks.join('') : ''));
        return;
      }
      case 'numberValue': {
        this.count(VALUE_BYTES);
        const key = this.stack[this.stack.length - 1]?.key ?? null;
        // Nanosecond times keep their digits: numbers past 2^53 would lose them as doubles.
        this.add(key !== null && /UnixNano$/.test(key) ? t.value : Number(t.value));
        return;
      }
      case 'nullValue':
      case 'trueValue':
      case 'falseValue':
        this.count(VALUE_BYTES);
        this.add(t.value);
        return;
      default:
    }
  }

  private add(value: unknown): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      this.root = { value };
      return;
    }
    if (Array.isArray(top.value)) top.value.push(value);
    else if (top.key === '__proto__')
      // Data, as JSON.parse makes it: an own member, never the object's prototype.
      Object.defineProperty(top.value, top.key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else if (top.key !== null) top.value[top.key] = value;
  }

  private count(n: number): void {
    this.heap += n;
    if (this.heap > this.limits.maxHeap)
      throw new ShapeError(
        `${this.what} is too large to read: the first ${this.bytes} bytes of it would take more than ${Math.round(this.limits.maxHeap / 1048576)} MiB of memory, the most one trace, segment document or span may take`,
        this.start,
        'remove or shorten its largest field (metadata, attributes) and ingest the file again, or ingest the other files without it',
      );
  }

  private wellFormed(s: string): string {
    const w = s as unknown as { isWellFormed(): boolean; toWellFormed(): string };
    if (w.isWellFormed()) return s;
    this.limits.onSurrogate();
    return w.toWellFormed();
  }
}
