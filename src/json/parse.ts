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
    return JSON.parse(options.exactNanos ? text.replace(BARE_NANOS, '$1"$2"') : text);
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
