/**
 * Text from the data, made inert before it is shown: C0 and C1 control characters, DEL, the
 * Unicode bidirectional marks, overrides and isolates (which can make a terminal or a browser show
 * text other than what is there), the line and paragraph separators and the zero-width characters
 * (which hide text, or join what looks apart) become visible escapes (`\x1b`, `\u202e`, `\u200b`).
 * The terminal (cli/render), `--json` on a terminal (cli/output) and the HTML report
 * (report/escape) all use this one definition.
 */

/**
 * The characters to escape beyond the C0 controls (which JSON.stringify already escapes), as the
 * body of a regular-expression character class: DEL and the C1 controls (U+009B is a one-character
 * CSI); the Arabic letter mark U+061C; zero-width space, non-joiner and joiner and the
 * left-to-right and right-to-left marks U+200B–U+200F; the line and paragraph separators
 * U+2028/U+2029; the bidi embeddings and overrides U+202A–U+202E; the word joiner U+2060; the
 * bidi isolates U+2066–U+2069; the zero-width no-break space (byte order mark) U+FEFF.
 */
export const UNSAFE_BEYOND_C0 =
  '\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff';

const UNSAFE = new RegExp(`[\\u0000-\\u001f${UNSAFE_BEYOND_C0}]`, 'g');

/** `value` as text with its control, bidi, separator and zero-width characters shown as escapes. */
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
