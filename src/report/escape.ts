/**
 * Escaping for the HTML report. Trace data is untrusted: every value goes through one of these
 * for the context it lands in, after its control and bidi characters are made visible
 * ({@link neutralize}). Text and attribute values escape the five HTML specials, which also
 * makes them safe inside SVG text; nothing from the data is ever put in a URL, a style, an event
 * handler or a script.
 */
import { neutralize, neutralizeLines } from '../shared/text.js';

const SPECIAL = /[&<>"']/g;
const ENTITY: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** A value as HTML text (element content or a quoted attribute value). */
export function h(value: unknown): string {
  return neutralize(value).replace(SPECIAL, (c) => ENTITY[c] as string);
}

/** Multi-line text (a policy, YAML, HCL) as the content of a `<pre>`: line breaks kept. */
export function pre(text: string): string {
  return neutralizeLines(text).replace(SPECIAL, (c) => ENTITY[c] as string);
}

/**
 * A value for a data attribute that must keep it exactly (`data-principal`: the key of
 * `policy --json`): only the HTML specials are escaped. An attribute value is never displayed,
 * so control and bidi characters need no neutralising there, and the value round-trips.
 */
export function attr(value: string): string {
  return value.replace(SPECIAL, (c) => ENTITY[c] as string);
}
