/**
 * Strict JSON parsing of one framed value (see split.ts): byte offsets in every message, and
 * bytes that are not UTF-8 refused rather than silently replaced.
 */
import { isUtf8 } from 'node:buffer';
import { DumpFormatError } from '../shared/errors.js';
import { firstInvalidUtf8 } from '../shared/utf8.js';

/** A value that is not valid JSON or not UTF-8, with its position in the input. */
export class JsonSyntaxError extends DumpFormatError {
  constructor(message: string, offset: number, hint?: string) {
    super(message, { position: { offset }, hint });
  }
}

/**
 * Nanosecond times written as bare JSON numbers (flat span records hold 19 digits, above 2^53):
 * quoted before parsing, so that their digits survive `JSON.parse` and are read exactly.
 */
const BARE_NANOS =
  /("(?:startTimeUnixNano|endTimeUnixNano|timeUnixNano|observedTimeUnixNano|durationNano)"\s*:\s*)(\d{16,})/g;

/** Options of {@link parseJson}. */
export interface ParseOptions {
  /** Keep every digit of bare nanosecond times (OpenTelemetry spans), as strings. */
  exactNanos?: boolean;
  /** Counts the strings (values and names) whose lone surrogates were replaced. */
  surrogates?: { replaced: number };
  /**
   * False when the text is known to hold no `\u` escape (its enclosing value's bytes held none):
   * the look for surrogate escapes is skipped.
   */
  escapes?: boolean;
}

/** An escape that may write half of a UTF-16 surrogate pair (`\ud800`): rare, so looked for first. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** The ES2024 string methods (Node 20 has them; the project's lib is ES2023). */
type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };

/**
 * `value` with every lone surrogate (an escaped `\ud800` without its pair, which no UTF-8 can
 * hold: SQLite would store its bytes as invalid UTF-8) replaced by U+FFFD, in strings and member
 * names alike, counting the strings changed. The text around it is kept.
 */
function wellFormed(value: unknown, count: { replaced: number }): unknown {
  if (typeof value === 'string') {
    const s = value as unknown as WellFormed;
    if (s.isWellFormed()) return value;
    count.replaced++;
    return s.toWellFormed();
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = wellFormed(value[i], count);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const v = wellFormed(o[k], count);
      if ((k as unknown as WellFormed).isWellFormed()) o[k] = v;
      else {
        count.replaced++;
        delete o[k];
        o[(k as unknown as WellFormed).toWellFormed()] = v;
      }
    }
  }
  return value;
}

/**
 * Parses JSON, turning V8's message into one with an input byte offset. Bytes that are not
 * valid UTF-8 are refused with their position: decoding would turn them into U+FFFD silently,
 * so two different names or ARNs could be stored as one and nobody would know.
 */
export function parseJson(
  bytes: Buffer | string,
  offset: number,
  what: string,
  options: ParseOptions = {},
): unknown {
  if (typeof bytes !== 'string' && !isUtf8(bytes)) {
    const bad = firstInvalidUtf8(bytes);
    throw new JsonSyntaxError(
      `invalid UTF-8 in ${what}: byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')} at byte ${offset + bad} is not part of a valid UTF-8 sequence`,
      offset + bad,
      'the file is not UTF-8 text (another encoding, or binary data): convert it to UTF-8 or export it again',
    );
  }
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  try {
    // Quoting adds two bytes per time before any position V8 reports: positions stay close
    // enough (the value is named), and only spans have such keys.
    const value: unknown = JSON.parse(options.exactNanos ? text.replace(BARE_NANOS, '$1"$2"') : text);
    return options.escapes !== false && SURROGATE_ESCAPE.test(text)
      ? wellFormed(value, options.surrogates ?? { replaced: 0 })
      : value;
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    const at = m ? offset + Buffer.byteLength(text.slice(0, Number(m[1]))) : offset;
    throw new JsonSyntaxError(
      `invalid JSON in ${what}: ${msg.replace(/\s+in JSON at position \d+.*$/, '')}`,
      at,
      'the text at this position is not JSON: the file was truncated or edited after export; export it again',
    );
  }
}

/**
 * An estimate of the V8 heap `JSON.parse` of `bytes` takes, without parsing: the text (its
 * strings) and, for every `{`, `[` and `,` (each an object, array or value, counted inside
 * strings too, which covers JSON held in strings such as a Document), what V8 spends per node.
 * Measured on 16 MiB values: `[{},{},…]` takes 332 MiB (this says 464), `[{"k":1},…]` 80 (150),
 * `["12",…]` 25 (69). Bytes bound memory only for ordinary JSON; nodes bound it for any.
 */
export function parsedSizeEstimate(bytes: Uint8Array): number {
  let containers = 0;
  let values = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x7b || b === 0x5b) containers++;
    else if (b === 0x2c) values++;
  }
  return bytes.length + 64 * containers + 16 * values;
}
