/**
 * A byte-level JSON splitter: finds where top-level JSON values begin and end in a stream of
 * bytes without building them, so that each can be handed to the native `JSON.parse`.
 *
 * Why not parse everything with a streaming tokenizer: that costs about three times a native
 * parse. Scanning bytes only for structure (brackets, commas, colons, string bounds) is cheap,
 * and the values it delimits are small: a bulk export is thousands of small documents.
 *
 * Memory stays bounded when one top-level value is huge (a single 1 GB document, or a bare
 * array of every trace): past `wholeLimit` bytes the splitter switches that value to *part
 * mode* and emits its members one by one instead: the elements of a top-level array, or for
 * a top-level object each member value, with the elements of array members emitted singly.
 *
 * The splitter validates structure only; `JSON.parse` of each emitted slice validates the rest.
 */

import { DumpFormatError } from '../shared/errors.js';
import { parseJson } from './parse.js';

/** One top-level value, small enough to parse whole. */
export interface WholeValue {
  kind: 'whole';
  /** Byte offset of its first byte in the input. */
  offset: number;
  bytes: Buffer;
  /**
   * True when the value was delimited without scanning it (see {@link JsonSplitter}): exact
   * for valid JSON. When it fails to parse, split it again with `fast: false` for the precise
   * error, or the values it holds.
   */
  unchecked?: boolean;
}

/** One member of a top-level value too large to parse whole. */
export interface PartValue {
  kind: 'part';
  /** Byte offset of its first byte in the input. */
  offset: number;
  /** `object` or `array`: the type of the top-level value it belongs to. */
  top: 'object' | 'array';
  /** For an object top: the member name; elements of an array member share the member's name. */
  key: string | undefined;
  /** True when this part is one element of an array-valued member (object top only). */
  element: boolean;
  /** Byte offset of the top-level value this part belongs to. */
  topOffset: number;
  bytes: Buffer;
}

/**
 * A piece of one part too large even for part mode (an OTLP `resourceSpans` element holding a
 * million spans, a segment document with a 100 MB string), for a streaming parser: its bytes in
 * order, from the piece marked `first` to the one marked `last`. Elements of members named in
 * {@link SplitterOptions.streamKeys} are streamed past `streamLimit`, any part past
 * `streamAnyAbove` when it is set.
 */
export interface StreamedPart {
  kind: 'stream';
  /** Byte offset of this piece's first byte in the input. */
  offset: number;
  /** The member this part is (or whose array element it is); '' for an element of an array top. */
  key: string;
  /** As for {@link PartValue}. */
  top: 'object' | 'array';
  element: boolean;
  topOffset: number;
  bytes: Buffer;
  first: boolean;
  last: boolean;
}

/** Marks the end of a top-level value that was emitted in parts. */
export interface PartsEnd {
  kind: 'parts-end';
  offset: number;
}

export type SplitEvent = WholeValue | PartValue | StreamedPart | PartsEnd;

/** A structural problem in the byte stream (bad bracket, truncation, stray byte). */
export class SplitError extends DumpFormatError {
  constructor(message: string, offset: number, hint?: string) {
    super(message, {
      position: { offset },
      hint:
        hint ??
        (/truncated/.test(message)
          ? 'the export was cut off: export it again'
          : 'the file is not valid JSON at this point'),
    });
  }

  /** Byte offset of the problem in the (decompressed) input. */
  get offset(): number {
    return this.position?.offset ?? 0;
  }
}

/** One value (a trace, a record, a member of one) larger than can be read whole. */
export class ValueTooLargeError extends SplitError {
  constructor(limit: number, offset: number, key?: string) {
    super(
      `a single JSON value${key === undefined ? '' : ` (in "${key}")`} is larger than ${Math.round(limit / 1048576)} MiB, the most read whole; no trace, segment document or span is this large`,
      offset,
      'remove or shorten its largest field (metadata, attributes) and ingest the file again, or ingest the other files without it',
    );
  }
}

const OPEN_OBJ = 0x7b; // {
const CLOSE_OBJ = 0x7d; // }
const OPEN_ARR = 0x5b; // [
const CLOSE_ARR = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NEWLINE_BRACE = Buffer.from('\n{');
/** {@link JsonSplitter} boundary(): wait for more data. */
const WAIT = -2;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Options for {@link JsonSplitter}. */
export interface SplitterOptions {
  /** A top-level value larger than this is emitted in parts (default 2 MiB). */
  wholeLimit?: number;
  /** Largest single part (one trace, one member) accepted before failing (default 512 MiB). */
  partLimit?: number;
  /** Deepest nesting accepted (default 10,000). */
  maxDepth?: number;
  /** Delimit values by their `}\n{` boundaries without scanning them (default true). */
  fast?: boolean;
  /** Input offset of the first byte pushed (default 0), for splitting a slice of an input. */
  offset?: number;
  /**
   * Members of a top-level object whose array elements, past {@link streamLimit} bytes, are
   * passed on in pieces ({@link StreamedPart}) instead of failing at `partLimit` or being held
   * whole: the caller parses them with a streaming parser.
   */
  streamKeys?: ReadonlySet<string>;
  /** An element of a `streamKeys` member larger than this is streamed (default 8 MiB). */
  streamLimit?: number;
  /** Any part larger than this is streamed too, instead of held up to `partLimit` (default: none). */
  streamAnyAbove?: number;
}

/**
 * Push bytes in with {@link push}; each call returns the events completed so far. Call
 * {@link end} after the last chunk: it fails on truncated input.
 */
export class JsonSplitter {
  /** Grows (doubling) to what the input needs; starts small because most inputs are small files. */
  private buf: Buffer = Buffer.allocUnsafe(64 * 1024);
  /** Bytes in `buf` that hold data. */
  private len = 0;
  /** Input offset of `buf[0]`. */
  private base = 0;
  /** Next index of `buf` to scan. */
  private pos = 0;

  private depth = 0;
  /** Container type at each depth (1-based): `{` or `[`. Grows as needed. */
  private stack: number[] = [0];

  private inString = false;
  /** Index in `buf` of the opening quote of the string being scanned. */
  private stringStart = 0;

  /** Index in `buf` where the current top-level value starts, or -1 between values. */
  private topStart = -1;
  /** Input offset where the current top-level value starts. */
  private topOffset = 0;
  private partMode = false;

  // Part tracking (always on, so that a value can switch to part mode half-way).
  /** Depth at which the current part's value sits, or 0 when not inside a part. */
  private partDepth = 0;
  private partStart = -1;
  private partStartByte = 0;
  private partKey: string | undefined = undefined;
  private partIsElement = false;
  /** Object top at depth 1: true when the next string is a member name. */
  private expectKey = false;
  private currentKey: string | undefined = undefined;
  /** Parts completed inside the current top-level value while still in whole mode. */
  private pending: { start: number; end: number; key: string | undefined; element: boolean }[] = [];

  private readonly wholeLimit: number;
  private readonly partLimit: number;
  private readonly streamKeys: ReadonlySet<string>;
  private readonly streamLimit: number;
  private readonly streamAnyAbove: number;
  /** True while the current part is passed on in pieces; `partStart` is then where the next piece starts. */
  private streaming = false;
  private readonly maxDepth: number;
  private readonly fast: boolean;
  private bomChecked = false;
  /** Set by {@link end}: no more data will come, so the fast path never waits. */
  private ending = false;

  constructor(options: SplitterOptions = {}) {
    this.wholeLimit = options.wholeLimit ?? 2 * 1024 * 1024;
    this.partLimit = options.partLimit ?? 512 * 1024 * 1024;
    this.maxDepth = options.maxDepth ?? 10_000;
    this.fast = options.fast ?? true;
    this.base = options.offset ?? 0;
    this.streamKeys = options.streamKeys ?? new Set();
    this.streamLimit = options.streamLimit ?? 8 * 1024 * 1024;
    this.streamAnyAbove = options.streamAnyAbove ?? Infinity;
  }

  /** Total bytes pushed so far. */
  get bytesSeen(): number {
    return this.base + this.len;
  }

  /** Adds a chunk and returns the events it completed. */
  push(chunk: Buffer): SplitEvent[] {
    this.append(chunk);
    if (!this.bomChecked) {
      // Wait for three bytes when what came so far could be the start of a byte-order mark.
      if (this.len < 3 && BOM.subarray(0, this.len).equals(this.buf.subarray(0, this.len))) return [];
      this.checkBom();
    }
    const out: SplitEvent[] = [];
    this.scan(out);
    // Parts completed before the value switched to part mode come after any earlier whole values.
    // A loop, not `push(...parts)`: 8 MiB of tiny parts is ~100,000 arguments, past the stack.
    if (this.flushPending) for (const p of this.takePending()) out.push(p);
    this.compact();
    return out;
  }

  /** Finishes the input; throws {@link SplitError} when it ended inside a value. */
  end(): SplitEvent[] {
    const out: SplitEvent[] = [];
    this.ending = true;
    if (!this.bomChecked) this.checkBom();
    this.scan(out);
    if (this.inString) {
      throw new SplitError(
        `unexpected end of input inside a string that starts at byte ${this.base + this.stringStart}: the file looks truncated`,
        this.base + this.len,
      );
    }
    if (this.depth > 0) {
      throw new SplitError(
        `unexpected end of input with ${this.depth} unclosed bracket${this.depth > 1 ? 's' : ''} (value starts at byte ${this.base + Math.max(0, this.topStart)}): the file looks truncated`,
        this.base + this.len,
      );
    }
    return out;
  }

  /** A UTF-8 byte-order mark is not JSON, but Windows editors add one: skip it. */
  private checkBom(): void {
    this.bomChecked = true;
    if (this.len >= 3 && this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) this.pos = 3;
  }

  private append(chunk: Buffer): void {
    if (this.len + chunk.length > this.buf.length) {
      const keepFrom = this.keepFrom();
      const live = this.len - keepFrom;
      let cap = this.buf.length;
      while (cap < live + chunk.length) cap *= 2;
      const next = cap === this.buf.length ? this.buf : Buffer.allocUnsafe(cap);
      this.buf.copy(next, 0, keepFrom, this.len);
      this.rebase(keepFrom);
      this.buf = next;
      this.len = live;
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
  }

  /** The first index of `buf` still needed. */
  private keepFrom(): number {
    let k = this.pos;
    if (this.inString) k = Math.min(k, this.stringStart);
    if (this.topStart >= 0 && !this.partMode) k = Math.min(k, this.topStart);
    if (this.partStart >= 0) k = Math.min(k, this.partStart);
    return k;
  }

  private rebase(shift: number): void {
    if (shift === 0) return;
    this.base += shift;
    this.pos -= shift;
    this.stringStart -= shift;
    if (this.topStart >= 0) this.topStart -= shift;
    if (this.partStart >= 0) this.partStart -= shift;
    if (this.boundaryFrom > 0) this.boundaryFrom -= shift;
    for (const p of this.pending) {
      p.start -= shift;
      p.end -= shift;
    }
  }

  /** Drops consumed bytes when they are most of the buffer. */
  private compact(): void {
    const keepFrom = this.keepFrom();
    if (keepFrom > 0 && keepFrom >= this.len / 2) {
      this.buf.copy(this.buf, 0, keepFrom, this.len);
      this.len -= keepFrom;
      this.rebase(keepFrom);
    }
  }

  private scan(out: SplitEvent[]): void {
    const buf = this.buf;
    const len = this.len;
    let i = this.pos;
    while (i < len) {
      if (this.inString) {
        // Find the closing quote: a quote preceded by an even number of backslashes.
        let q = i;
        for (;;) {
          q = buf.indexOf(QUOTE, q);
          if (q < 0 || q >= len) {
            q = -1;
            break;
          }
          let bs = 0;
          for (let k = q - 1; k > this.stringStart && buf[k] === BACKSLASH; k--) bs++;
          if ((bs & 1) === 0) break;
          q++;
        }
        if (q < 0) {
          // Rescan only the last byte next time (it may be a backslash escaping the next quote).
          i = Math.max(this.stringStart + 1, len - 1);
          this.pos = i;
          this.checkPartSize(len, out);
          return;
        }
        this.inString = false;
        i = q + 1;
        this.afterString(q, out);
        continue;
      }
      const b = buf[i] as number;
      if (isSpace(b)) {
        i++;
        continue;
      }
      if (b === OPEN_OBJ && this.depth === 0 && this.fast) {
        const end = this.boundary(i);
        if (end === WAIT) {
          this.pos = i;
          return;
        }
        if (end > 0) {
          out.push({
            kind: 'whole',
            offset: this.base + i,
            bytes: Buffer.from(buf.subarray(i, end)),
            unchecked: true,
          });
          i = end;
          continue;
        }
        // No boundary within the limit: scan this value byte by byte (it may need part mode).
      }
      if (b === QUOTE) {
        // A bare top-level string was skipped without a word, hiding that the file is not a dump.
        if (this.depth === 0) {
          throw new SplitError(
            `expected '{' or '[' but found a string: this is not a JSON document`,
            this.base + i,
          );
        }
        this.valueStart(i, b);
        this.inString = true;
        this.stringStart = i;
        i++;
        continue;
      }
      if (b === OPEN_OBJ || b === OPEN_ARR) {
        this.valueStart(i, b);
        this.depth++;
        if (this.depth > this.maxDepth) {
          throw new SplitError(
            `nesting deeper than ${this.maxDepth} levels; no X-Ray document nests this deep`,
            this.base + i,
          );
        }
        this.stack[this.depth] = b;
        if (this.depth === 1) {
          this.expectKey = b === OPEN_OBJ;
          this.currentKey = undefined;
        }
        i++;
        continue;
      }
      if (b === CLOSE_OBJ || b === CLOSE_ARR) {
        if (this.depth === 0) throw new SplitError(`unexpected '${String.fromCharCode(b)}'`, this.base + i);
        const open = this.stack[this.depth];
        if ((b === CLOSE_OBJ) !== (open === OPEN_OBJ)) {
          throw new SplitError(
            `'${String.fromCharCode(b)}' closes a '${String.fromCharCode(open ?? 0x3f)}'`,
            this.base + i,
          );
        }
        // A scalar part ends before a closing bracket at its depth.
        if (
          this.partStart >= 0 &&
          this.partDepth === this.depth &&
          this.partStartByte !== OPEN_OBJ &&
          this.partStartByte !== OPEN_ARR
        ) {
          this.endPart(this.trimEnd(i), out);
        }
        this.depth--;
        i++;
        if (
          this.partStart >= 0 &&
          this.partDepth === this.depth &&
          (this.partStartByte === OPEN_OBJ || this.partStartByte === OPEN_ARR)
        ) {
          this.endPart(i, out);
        }
        if (this.depth === 0) this.endTop(i, out);
        continue;
      }
      if (b === COMMA) {
        if (this.depth === 0) throw new SplitError(`unexpected ','`, this.base + i);
        if (this.partStart >= 0 && this.partDepth === this.depth) this.endPart(this.trimEnd(i), out);
        if (this.depth === 1 && this.stack[1] === OPEN_OBJ) this.expectKey = true;
        i++;
        continue;
      }
      if (b === COLON) {
        if (this.depth === 0) throw new SplitError(`unexpected ':'`, this.base + i);
        i++;
        continue;
      }
      // Numbers, true, false, null.
      if (this.depth === 0) {
        // A CloudWatch Logs export to S3 starts every line with the event's time.
        const after = this.timestampPrefix(i);
        if (after === WAIT) {
          this.pos = i;
          return;
        }
        if (after > 0) {
          this.linePrefixed = true;
          i = after;
          continue;
        }
        throw new SplitError(
          `expected '{' or '[' but found ${describeByte(b)}: this is not a JSON document`,
          this.base + i,
        );
      }
      this.valueStart(i, b);
      i++;
    }
    this.pos = i;
    this.checkPartSize(len, out);
  }

  /**
   * The fast path. Between top-level values, where the value starting at `i` is followed by a
   * newline and a `{` at the start of a line (how the AWS CLI and JSON Lines concatenate
   * documents), returns the index just past its closing `}` without scanning its bytes: in
   * valid JSON a raw newline never occurs inside a string, and `}` then `{` never occur inside
   * a value without a comma between them. Invalid JSON fails `JSON.parse` of the slice, and
   * the caller then splits it again byte by byte for the exact error. Returns {@link WAIT} when
   * more data could still show a boundary, or -1 to scan the value byte by byte.
   */
  private boundary(i: number): number {
    const limit = Math.min(this.len, i + this.wholeLimit);
    const view = this.buf.subarray(0, limit);
    let from = Math.max(i + 1, this.boundaryFrom);
    for (;;) {
      // Lines of a CloudWatch Logs export start with a timestamp, not a brace: `}\n2026-…`
      // cannot occur inside a JSON value either (a value after `}` needs a comma).
      const nl = this.linePrefixed ? nextLineOfValue(view, from) : view.indexOf(NEWLINE_BRACE, from);
      if (nl < 0) break;
      let e = nl;
      while (e > i && isSpace(this.buf[e - 1] as number)) e--;
      if (this.buf[e - 1] === CLOSE_OBJ) {
        this.boundaryFrom = 0;
        return e;
      }
      from = nl + 1;
    }
    if (!this.ending && this.len - i < this.wholeLimit) {
      // Resume the search where it stopped (less the needle's first byte) when data arrives.
      this.boundaryFrom = Math.max(i + 1, limit - 1);
      return WAIT;
    }
    this.boundaryFrom = 0;
    return -1;
  }

  /** Where {@link boundary} resumes its search for the value it is waiting on (buffer index). */
  private boundaryFrom = 0;

  /** True once a line started with a timestamp (a CloudWatch Logs export to S3). */
  linePrefixed = false;

  /**
   * At `i`, between top-level values: the index after an ISO 8601 timestamp and the blank that
   * follows it (`2026-11-23T10:00:00.123Z `), 0 when there is none, or {@link WAIT} when the bytes
   * so far could still be one. Nothing else can stand there in JSON, so skipping it is exact.
   */
  private timestampPrefix(i: number): number {
    const b = this.buf[i] as number;
    if (b < 0x30 || b > 0x39) return 0;
    const end = Math.min(this.len, i + 40);
    const text = this.buf.toString('latin1', i, end);
    const m = TIMESTAMP_PREFIX.exec(text);
    if (m) return i + m[0].length;
    if (!this.ending && end - i < 40 && TIMESTAMP_START.test(text)) return WAIT;
    return 0;
  }

  /** A value begins at `i` (first byte `b`): a top-level value or a part. */
  private valueStart(i: number, b: number): void {
    if (this.depth === 0) {
      this.topStart = i;
      this.topOffset = this.base + i;
      this.partMode = false;
      this.pending = [];
      return;
    }
    if (this.partStart >= 0) return;
    const top = this.stack[1];
    if (top === OPEN_ARR && this.depth === 1) {
      this.beginPart(i, b, 1, undefined, false);
    } else if (top === OPEN_OBJ && this.depth === 1) {
      if (this.expectKey) return; // a member name, handled in afterString
      if (b === OPEN_ARR) return; // array member: its elements are the parts
      this.beginPart(i, b, 1, this.currentKey, false);
    } else if (top === OPEN_OBJ && this.depth === 2 && this.stack[2] === OPEN_ARR) {
      this.beginPart(i, b, 2, this.currentKey, true);
    }
  }

  private beginPart(i: number, b: number, depth: number, key: string | undefined, element: boolean): void {
    this.partStart = i;
    this.partStartByte = b;
    this.partDepth = depth;
    this.partKey = key;
    this.partIsElement = element;
  }

  private afterString(q: number, out: SplitEvent[]): void {
    if (this.depth === 1 && this.stack[1] === OPEN_OBJ && this.expectKey) {
      this.expectKey = false;
      const raw = this.buf.toString('utf8', this.stringStart, q + 1);
      try {
        this.currentKey = JSON.parse(raw) as string;
      } catch {
        throw new SplitError(`invalid member name ${raw.slice(0, 80)}`, this.base + this.stringStart);
      }
      return;
    }
    if (this.partStart === this.stringStart && this.partDepth === this.depth) this.endPart(q + 1, out);
  }

  private trimEnd(i: number): number {
    let e = i;
    while (e > 0 && isSpace(this.buf[e - 1] as number)) e--;
    return e;
  }

  private endPart(end: number, out: SplitEvent[]): void {
    const start = this.partStart;
    this.partStart = -1;
    if (this.streaming) {
      this.streaming = false;
      out.push(this.piece(start, end, false, true));
    } else if (this.partMode) {
      out.push(
        this.streamable(this.partKey, this.partIsElement, end - start)
          ? this.piece(start, end, true, true)
          : this.partEvent(start, end, this.partKey, this.partIsElement),
      );
    } else {
      this.pending.push({ start, end, key: this.partKey, element: this.partIsElement });
    }
  }

  private partEvent(start: number, end: number, key: string | undefined, element: boolean): PartValue {
    return {
      kind: 'part',
      offset: this.base + start,
      top: this.stack[1] === OPEN_ARR ? 'array' : 'object',
      key,
      element,
      topOffset: this.topOffset,
      bytes: Buffer.from(this.buf.subarray(start, end)),
    };
  }

  private endTop(end: number, out: SplitEvent[]): void {
    if (this.partMode) {
      out.push({ kind: 'parts-end', offset: this.base + end });
    } else {
      out.push({
        kind: 'whole',
        offset: this.base + this.topStart,
        bytes: Buffer.from(this.buf.subarray(this.topStart, end)),
      });
    }
    this.topStart = -1;
    this.partMode = false;
    this.pending = [];
  }

  /** True for an element of a `streamKeys` member past the stream limit, or any part past `streamAnyAbove`. */
  private streamable(key: string | undefined, element: boolean, size: number): boolean {
    if (size > this.streamAnyAbove) return true;
    return element && key !== undefined && size > this.streamLimit && this.streamKeys.has(key);
  }

  /** One piece of a streamed part, `buf[start, end)` (a part found complete in one scan is one piece). */
  private piece(
    start: number,
    end: number,
    first: boolean,
    last: boolean,
    key = this.partKey,
    element = this.partIsElement,
  ): StreamedPart {
    return {
      kind: 'stream',
      offset: this.base + start,
      key: key ?? '',
      top: this.stack[1] === OPEN_ARR ? 'array' : 'object',
      element,
      topOffset: this.topOffset,
      bytes: Buffer.from(this.buf.subarray(start, end)),
      first,
      last,
    };
  }

  /**
   * Switches a top-level value that grew past the limit to part mode; streams a part of a
   * `streamKeys` member that grew past `streamLimit` (passing on what it holds so far, so that
   * the buffer keeps only what is still being scanned); bounds any other single part.
   */
  private checkPartSize(len: number, out: SplitEvent[]): void {
    if (this.topStart >= 0 && !this.partMode && len - this.topStart > this.wholeLimit) {
      this.partMode = true;
      this.flushPending = true;
    }
    if (this.partStart < 0) return;
    if (this.streaming) {
      if (len > this.partStart) {
        out.push(this.piece(this.partStart, len, false, false));
        this.partStart = len;
      }
      return;
    }
    // Not before the parts completed ahead of it are out (they are emitted after this scan).
    if (
      this.partMode &&
      !this.flushPending &&
      this.streamable(this.partKey, this.partIsElement, len - this.partStart)
    ) {
      this.streaming = true;
      out.push(this.piece(this.partStart, len, true, false));
      this.partStart = len;
      return;
    }
    if (len - this.partStart > this.partLimit) {
      throw new ValueTooLargeError(this.partLimit, this.base + this.partStart, this.partKey);
    }
  }

  /** Set when part mode began: the parts completed before it must be emitted first. */
  private flushPending = false;

  /** Events for parts completed before the switch to part mode. */
  private takePending(): (PartValue | StreamedPart)[] {
    const events = this.pending.map((p) =>
      this.streamable(p.key, p.element, p.end - p.start)
        ? this.piece(p.start, p.end, true, true, p.key, p.element)
        : this.partEvent(p.start, p.end, p.key, p.element),
    );
    this.pending = [];
    this.flushPending = false;
    return events;
  }
}

/** An ISO 8601 date-time and the blank after it, at the start of a line. */
const TIMESTAMP_PREFIX = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)[ \t]/;
/** What the start of one looks like, while more bytes are awaited. */
const TIMESTAMP_START = /^[\d:.TZ+-]*$/;

/** The next newline followed by `{` or a digit (the start of a prefixed line), or -1. */
function nextLineOfValue(view: Buffer, from: number): number {
  for (let nl = view.indexOf(0x0a, from); nl >= 0 && nl + 1 < view.length; nl = view.indexOf(0x0a, nl + 1)) {
    const next = view[nl + 1] as number;
    if (next === OPEN_OBJ || (next >= 0x30 && next <= 0x39)) return nl;
  }
  return -1;
}

function describeByte(b: number): string {
  if (b >= 0x20 && b < 0x7f) return `'${String.fromCharCode(b)}'`;
  return `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/**
 * Every top-level JSON value of a small input held in memory (a roles file, a granted-policy
 * export, CLI pagination printed page after page), parsed. Throws a {@link DumpFormatError}
 * subclass with the byte offset when the text is not a sequence of JSON objects and arrays.
 */
export function parseAll(text: string | Buffer, what: string): unknown[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const splitter = new JsonSplitter({ wholeLimit: Infinity, fast: false });
  const out: unknown[] = [];
  for (const ev of [...splitter.push(bytes), ...splitter.end()]) {
    if (ev.kind === 'whole') out.push(parseJson(ev.bytes, ev.offset, what));
  }
  return out;
}
