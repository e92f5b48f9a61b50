/**
 * One OTLP/JSON `resourceSpans` element too large to parse whole (a resource holding a million
 * spans), read with stream-json as the splitter passes its bytes on (src/json/split.ts,
 * `StreamedPart`): the resource is assembled, then each span of `scopeSpans[].spans[]` is
 * assembled, turned into a {@link Span} and handed out at once, so that memory holds one span at
 * a time whatever the size of the element. Everything else in the element is skipped unbuilt.
 *
 * Why stream-json here and not the byte splitter: the splitter frames values for the native
 * `JSON.parse` at one or two levels; spans sit four levels down, inside objects whose other
 * members matter (the resource). A tokenizer walks that structure without building it.
 */
import { StringDecoder } from 'node:string_decoder';
import { Assembler } from 'stream-json/core/assembler.js';

type Token = parser.Token;
import { jsonParser, type parser } from 'stream-json/core/parser.js';
import { DumpFormatError } from '../shared/errors.js';
import { asObject } from '../shared/values.js';
import { ShapeError } from './errors.js';
import { otlpAttributes, spanFromOtlp, type Span } from './spans.js';

/**
 * A string that no longer holds on to the text it was cut from. The tokenizer's values are V8
 * slices of the 64 KiB it was given: an id kept for later (the workload a child span will look up)
 * kept that whole text alive, and the heap grew with the document. Copying is cheap for short values.
 */
function detach(s: string): string {
  return s.length < 13 ? s : (s + ' ').slice(0, -1);
}

/** Characters tokenized at a time. */
const FEED_SLICE = 64 * 1024;

/** Spans that may arrive before their resource (OTLP writers put the resource first). */
const MAX_WAITING = 10_000;

/** Where a value being assembled sits in the element. */
type Target = 'resource' | 'span';

interface Frame {
  array: boolean;
  /** The member being read, in an object. */
  key: string | null;
}

/** Reads one streamed `resourceSpans` element; push its pieces in order, then {@link end}. */
export class ResourceSpansStream {
  private readonly tokenize = jsonParser({ packValues: true, streamValues: false });
  private readonly decoder = new StringDecoder('utf8');
  private readonly frames: Frame[] = [];
  private asm: Assembler | null = null;
  private target: Target | null = null;
  private resource: Record<string, unknown> | undefined;
  private waiting: Record<string, unknown>[] = [];
  private out: Span[] = [];
  private offset = 0;

  /** The spans completed by this piece. */
  push(bytes: Buffer, offset: number): Span[] {
    this.offset = offset;
    this.feed(this.decoder.write(bytes));
    return this.take();
  }

  /** The spans completed by the end of the element; fails when it had no resource. */
  end(offset: number): Span[] {
    this.offset = offset;
    this.feed(this.decoder.end());
    if (this.frames.length > 0 || this.asm)
      throw new ShapeError('a resourceSpans entry ends before it is complete', offset);
    if (this.resource === undefined)
      throw new ShapeError(
        'a resourceSpans entry has no resource',
        offset,
        'OTLP exports carry the resource of their spans: the export is damaged',
      );
    return this.take();
  }

  private take(): Span[] {
    const spans = this.out;
    this.out = [];
    return spans;
  }

  private feed(text: string): void {
    // In slices: the tokenizer returns every token of what it is given at once (an 8 MiB piece
    // would be millions of token objects).
    for (let i = 0; i < text.length; i += FEED_SLICE) this.feedSlice(text.slice(i, i + FEED_SLICE));
  }

  private feedSlice(text: string): void {
    let tokens: unknown;
    try {
      tokens = this.tokenize(text);
    } catch (err) {
      throw new DumpFormatError(`invalid JSON in a resourceSpans entry: ${(err as Error).message}`, {
        position: { offset: this.offset },
        hint: 'the text is not JSON here: the file was truncated or edited after export; export it again',
      });
    }
    const many = (tokens as { values?: Token[] } | undefined)?.values;
    if (many) for (const t of many) this.token(t);
  }

  /** What a value starting here is: the resource, a span, or nothing kept. */
  private where(): Target | null {
    const f = this.frames;
    if (f.length === 1 && f[0]!.key === 'resource') return 'resource';
    if (
      f.length === 4 &&
      (f[0]!.key === 'scopeSpans' || f[0]!.key === 'instrumentationLibrarySpans') &&
      f[1]!.array &&
      !f[2]!.array &&
      f[2]!.key === 'spans' &&
      f[3]!.array
    )
      return 'span';
    return null;
  }

  private token(t: Token): void {
    if (this.asm) {
      this.assemble(t);
      return;
    }
    const top = this.frames[this.frames.length - 1];
    switch (t.name) {
      case 'keyValue':
        if (top) top.key = t.value;
        return;
      case 'startObject':
      case 'startArray': {
        const target = this.frames.length > 0 ? this.where() : null;
        if (target) {
          this.asm = new Assembler();
          this.target = target;
          this.assemble(t);
          return;
        }
        this.frames.push({ array: t.name === 'startArray', key: null });
        return;
      }
      case 'endObject':
      case 'endArray':
        this.frames.pop();
        return;
      default:
        // A scalar member: only a resource or span that is not an object matters.
        if (this.where() === 'resource')
          throw new ShapeError(
            'a resourceSpans entry has no resource',
            this.offset,
            'OTLP exports carry the resource of their spans',
          );
        if (this.where() === 'span' && t.name !== 'startString' && t.name !== 'startNumber')
          throw new ShapeError('a span is not an object', this.offset, 'expected OTLP/JSON spans');
    }
  }

  private assemble(t: Token): void {
    const asm = this.asm as Assembler;
    // Nanosecond times keep their digits: numbers past 2^53 would lose them as doubles.
    if (t.name === 'numberValue' && asm.key !== null && /UnixNano$/.test(asm.key)) asm.stringValue(t.value);
    else if (t.name === 'stringValue') asm.stringValue(detach(t.value));
    else if (t.name === 'keyValue') asm.keyValue(detach(t.value));
    else asm.consume(t);
    if (!asm.done) return;
    const value = asObject(asm.current);
    const target = this.target;
    this.asm = null;
    this.target = null;
    if (target === 'resource') {
      if (!value)
        throw new ShapeError(
          'a resourceSpans entry has no resource',
          this.offset,
          'OTLP exports carry the resource of their spans',
        );
      this.resource = otlpAttributes(
        value.attributes,
        { offset: this.offset, what: 'a resourceSpans entry' },
        "the resource's attributes",
      );
      for (const s of this.waiting) this.span(s);
      this.waiting = [];
      return;
    }
    if (!value) throw new ShapeError('a span is not an object', this.offset, 'expected OTLP/JSON spans');
    if (this.resource) this.span(value);
    else if (this.waiting.push(value) > MAX_WAITING)
      throw new ShapeError(
        `a resourceSpans entry holds more than ${MAX_WAITING} spans before its resource`,
        this.offset,
        'OTLP writers put the resource first; re-export the spans as OTLP/JSON, or split this document',
      );
  }

  private span(s: Record<string, unknown>): void {
    this.out.push(
      spanFromOtlp(s, this.resource as Record<string, unknown>, {
        offset: this.offset,
        what: 'a span of a resourceSpans entry',
      }),
    );
  }
}
