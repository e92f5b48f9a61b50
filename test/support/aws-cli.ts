/**
 * Exports shaped exactly as the AWS CLI prints them: the one writer of test dumps, benchmark
 * dumps and samples. The CLI (botocore) prints JSON with a 4-space indent, doubles with a
 * fractional part (`2.0`), and X-Ray stores segment documents with times as Java doubles
 * (`1.758009733951E9`, docs/xray-format.md).
 */

/** Spaces of indentation. */
export function indent(n: number): string {
  return ' '.repeat(n);
}

/** Python's float repr for the values we produce: always a fractional part (`2` → `2.0`). */
export function pyFloat(x: number): string {
  const s = String(x);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/** The digits of epoch seconds (`1756684800`, `123`) as Java's `Double.toString` writes them: `1.756684800123E9`. */
export function javaDoubleText(intPart: string, frac: string): string {
  const digits = (intPart + frac).replace(/0+$/, '');
  const rest = digits.slice(1);
  return `${digits[0] ?? '0'}.${rest === '' ? '0' : rest}E${intPart.length - 1}`;
}

/** Epoch seconds as Java's `Double.toString` writes them (values from 1e7 up; smaller ones as JavaScript does). */
export function javaDouble(v: number): string {
  const s = String(Math.abs(v));
  if (Math.abs(v) < 1e7 || s.includes('e')) return String(v);
  const [int = '', frac = ''] = s.split('.');
  return `${v < 0 ? '-' : ''}${javaDoubleText(int, frac)}`;
}

const TIME_RE = /("(?:start|end)_time":)(\d{10})(?:\.(\d+))?/g;

/** A compact segment document JSON text with `start_time`/`end_time` rewritten as Java doubles, as X-Ray stores them. */
export function javaTimes(json: string): string {
  return json.replace(
    TIME_RE,
    (_m, key: string, i: string, f: string | undefined) => key + javaDoubleText(i, f ?? ''),
  );
}

/** A segment document as the `Document` string X-Ray returns. */
export function documentText(doc: unknown): string {
  return javaTimes(JSON.stringify(doc));
}

/** One Trace object of a batch-get-traces response. */
export interface TraceText {
  id: string;
  duration: number;
  /** Absent in 2018 dumps: then the key is not printed. */
  limitExceeded?: boolean;
  /** `[segment id, Document text]`. */
  docs: [string, string][];
}

const I8 = indent(8);
const I12 = indent(12);
const I16 = indent(16);
const I20 = indent(20);

/** One Trace object pretty-printed as the CLI does, as an element of `Traces` (indented 8). */
export function traceText(t: TraceText): string {
  let s = `${I8}{\n${I12}"Id": ${JSON.stringify(t.id)},\n${I12}"Duration": ${pyFloat(t.duration)},\n`;
  if (t.limitExceeded !== undefined) s += `${I12}"LimitExceeded": ${t.limitExceeded},\n`;
  s += `${I12}"Segments": [\n`;
  for (let i = 0; i < t.docs.length; i++) {
    const [id, doc] = t.docs[i] as [string, string];
    s += `${I16}{\n${I20}"Id": ${JSON.stringify(id)},\n${I20}"Document": ${JSON.stringify(doc)}\n${I16}}${i < t.docs.length - 1 ? ',' : ''}\n`;
  }
  return `${s}${I12}]\n${I8}}`;
}

/** The `UnprocessedTraceIds` value as the CLI prints it. */
export function unprocessedText(ids: readonly string[]): string {
  if (ids.length === 0) return '[]';
  return `[\n${ids.map((id) => `${I8}${JSON.stringify(id)}`).join(',\n')}\n    ]`;
}

/** The opening of a batch-get-traces response, before its first trace. */
export const BATCH_HEAD = '{\n    "Traces": [\n';

/** The end of a batch-get-traces response, after its last trace. */
export function batchTail(unprocessed: readonly string[]): string {
  return `\n    ],\n    "UnprocessedTraceIds": ${unprocessedText(unprocessed)}\n}\n`;
}

/** A whole batch-get-traces response, as `aws xray batch-get-traces` prints it. */
export function batchText(traces: readonly TraceText[], unprocessed: readonly string[] = []): string {
  if (traces.length === 0)
    return `{\n    "Traces": [],\n    "UnprocessedTraceIds": ${unprocessedText(unprocessed)}\n}\n`;
  return BATCH_HEAD + traces.map(traceText).join(',\n') + batchTail(unprocessed);
}
