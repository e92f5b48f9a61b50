/**
 * YAML (and JSON, which YAML 1.2 reads) to plain values that remember their line: CloudFormation
 * and SAM templates, Serverless files and the tool's own YAML outputs are read through this, so
 * that each granted statement can say where it is written.
 *
 * CloudFormation's short-form intrinsics (`!Sub`, `!Ref`, `!GetAtt`…) become their long form
 * (`{"Fn::Sub": …}`, `{"Ref": …}`, `{"Fn::GetAtt": [resource, attribute]}`), as CloudFormation
 * defines them; any other local tag `!X` becomes `{"Fn::X": …}`.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { UserInputError } from '../shared/errors.js';
import { isObject } from '../shared/values.js';
import { parsePolicy, type Policy } from '../iam/evaluate.js';

/** A parsed file: its value, and the 1-based line where each of its objects and lists starts. */
export interface LinedValue {
  value: unknown;
  /** Line of an object or list: where its key is written (its own start for list items). */
  lineOf: (v: unknown) => number | undefined;
  /** Line of item `i` of a list (a string has no identity of its own to look up). */
  itemLine: (list: unknown, i: number) => number | undefined;
}

/** YAML aliases expanded at most, per file. */
const MAX_ALIASES = 1000;

/** Tags whose long form is not `Fn::<name>`. */
const LONG_FORM: Record<string, string> = { '!Ref': 'Ref', '!Condition': 'Condition' };

/**
 * Parses YAML or JSON text. Throws a {@link UserInputError} naming the file, the line and column
 * of the first syntax error, and `hint`.
 */
export function parseLined(text: string, file: string, hint: string): LinedValue {
  // JSON (CloudFormation JSON, a CDK synth output, a Terraform plan) through a JSON reader that
  // keeps lines: the YAML parser took 2.7 s on a 2.9 MB template (docs/performance.md).
  if (/^\ufeff?\s*[[{]/.test(text)) {
    const lined = jsonLined(text.replace(/^\ufeff/, ''));
    if (lined) return lined;
  }
  const counter = new LineCounter();
  const doc = parseDocument(text.replace(/^\ufeff/, ''), {
    lineCounter: counter,
    // YAML 1.2: an unquoted `Version: 2012-10-17` stays a string (1.1 would read a date).
    version: '1.2',
  });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const where = at ? `:${at.line}:${at.col}` : '';
    throw new UserInputError(
      `--granted ${file}${where}: not valid YAML or JSON (${error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}). ${hint}`,
    );
  }
  const lines = new WeakMap<object, number>();
  const items = new WeakMap<object, (number | undefined)[]>();
  const lineAt = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : counter.linePos(offset).line;
  // Aliases are expanded here: a bounded number of them, so that a hostile file cannot grow
  // into billions of values ("billion laughs").
  let aliases = 0;
  const toValue = (node: unknown, line: number | undefined): unknown => {
    if (isAlias(node)) {
      if (++aliases > MAX_ALIASES)
        throw new UserInputError(
          `--granted ${file}: more than ${MAX_ALIASES} YAML aliases expanded; templates do not need them: write the values out.`,
        );
      return toValue(node.resolve(doc), line);
    }
    let v: unknown;
    const n = node as Node | null;
    if (isMap(n)) {
      const o: Record<string, unknown> = {};
      for (const pair of n.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        setOwn(o, key, toValue(pair.value, lineAt(keyNode?.range?.[0])));
      }
      v = o;
    } else if (isSeq(n)) {
      const at = n.items.map((item) => lineAt((item as Node | null)?.range?.[0]));
      v = n.items.map((item, i) => toValue(item, at[i]));
      items.set(v as object, at);
    } else if (isScalar(n)) {
      v = n.value;
    } else v = null;
    const tag = n?.tag;
    if (tag && tag.startsWith('!') && !tag.startsWith('!!')) {
      const name = LONG_FORM[tag] ?? `Fn::${tag.slice(1)}`;
      // `!GetAtt Resource.Attribute` is the short form of `Fn::GetAtt: [Resource, Attribute]`.
      if (tag === '!GetAtt' && typeof v === 'string') {
        const dot = v.indexOf('.');
        v = dot < 0 ? [v] : [v.slice(0, dot), v.slice(dot + 1)];
      }
      v = { [name]: v };
    }
    if (typeof v === 'object' && v !== null && line !== undefined) lines.set(v, line);
    return v;
  };
  const value = toValue(doc.contents, lineAt(doc.contents?.range?.[0]));
  return linedValue(value, lines, items);
}

/** A value with the lines recorded for its objects and list items. */
function linedValue(
  value: unknown,
  lines: WeakMap<object, number>,
  items: WeakMap<object, (number | undefined)[]>,
): LinedValue {
  return {
    value,
    lineOf: (v) => (typeof v === 'object' && v !== null ? lines.get(v) : undefined),
    itemLine: (list, i) => (Array.isArray(list) ? items.get(list)?.[i] : undefined),
  };
}

/**
 * Parses `resolved` (the document `doc` of `lined` with its values resolved) as a policy whose
 * origin is `file` and `resource`, each statement with its line.
 */
export function linedPolicy(
  lined: LinedValue,
  doc: unknown,
  resolved: unknown,
  name: string,
  file: string,
  resource: string | undefined,
): Policy {
  const parsed = parsePolicy(resolved, name, `--granted ${file}${resource ? ` ${resource}` : ''}`);
  const statements = isObject(doc) ? (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) : [];
  const line = lined.lineOf(doc);
  return {
    ...parsed,
    origin: { file, ...(resource ? { resource } : {}), ...(line === undefined ? {} : { line }) },
    statements: parsed.statements.map((s, i) => {
      const at = lined.lineOf(statements[i]);
      return at === undefined ? s : { ...s, line: at };
    }),
  };
}

/**
 * Valid JSON text as a {@link LinedValue}; undefined when it is not valid JSON (the YAML parser
 * then says where). A recursive-descent reader: JSON has line breaks only between tokens.
 */
export function jsonLined(text: string): LinedValue | undefined {
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  const lines = new WeakMap<object, number>();
  const items = new WeakMap<object, number[]>();
  let i = 0;
  let line = 1;
  const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const space = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      else if (c !== 32 && c !== 9 && c !== 13) return;
      i++;
    }
  };
  const string = (): string => {
    const start = i++;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(i++);
      if (c === 92) {
        escaped = true;
        i++;
      } else if (c === 34) break;
    }
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
  };
  // Depth is bounded by the text JSON.parse just accepted (its own recursion limit).
  const value = (): unknown => {
    space();
    const c = text[i];
    if (c === '{') {
      const at = line;
      const o: Record<string, unknown> = {};
      i++;
      space();
      if (text[i] === '}') i++;
      else
        for (;;) {
          space();
          const key = string();
          space();
          i++; // :
          setOwn(o, key, value());
          space();
          if (text[i++] === '}') break;
        }
      lines.set(o, at);
      return o;
    }
    if (c === '[') {
      const at = line;
      const a: unknown[] = [];
      const where: number[] = [];
      i++;
      space();
      if (text[i] === ']') i++;
      else
        for (;;) {
          space();
          where.push(line);
          a.push(value());
          space();
          if (text[i++] === ']') break;
        }
      lines.set(a, at);
      items.set(a, where);
      return a;
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) return ((i += 4), true);
    if (text.startsWith('false', i)) return ((i += 5), false);
    if (text.startsWith('null', i)) return ((i += 4), null);
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    i = NUMBER.lastIndex;
    return Number(m?.[0]);
  };
  return linedValue(value(), lines, items);
}

/** `o[key] = v` as an own property, also for `__proto__` (which would set the prototype). */
function setOwn(o: Record<string, unknown>, key: string, v: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
  else o[key] = v;
}
