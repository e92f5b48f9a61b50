/**
 * Text from the data, made inert before it is shown: C0 and C1 control characters, DEL and the
 * Unicode bidirectional overrides and isolates (which can make a terminal or a browser show text
 * other than what is there) become visible escapes (`\x1b`, `\u202e`). The terminal (cli/render)
 * and the HTML report (report/escape) both use it.
 */

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `value` as text with its control characters and bidi controls shown as escapes. */
export function neutralize(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Like {@link neutralize} for multi-line text: keeps the line breaks. */
export function neutralizeLines(value: string): string {
  return value
    .split('\n')
    .map((line) => neutralize(line))
    .join('\n');
}
