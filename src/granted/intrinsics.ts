/**
 * CloudFormation intrinsic functions, resolved where the template itself fixes the value, and
 * otherwise kept as named placeholders that never match anything (src/iam/glob.ts):
 *
 * - pseudo parameters stay `${AWS::AccountId}`, `${AWS::Region}`, `${AWS::Partition}`…: the
 *   comparison binds the account, region and partition to the workload's own (compare.ts);
 * - `Ref` to a parameter or a resource becomes `${Ref:Name}` (a parameter's default is not what
 *   was deployed, so it is not used), `Fn::GetAtt` becomes `${GetAtt:Name.Attribute}` and
 *   `Fn::ImportValue` `${ImportValue:Export}`;
 * - `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split` and `Fn::FindInMap` are computed from what
 *   they are given (placeholders carried through);
 * - `Fn::If` and any other function become `${Fn::If:Condition}`, `${Fn::Name}`: which branch was
 *   deployed is not in the template.
 *
 * Reference: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 */
import { isObject } from '../shared/values.js';

/** What `Ref: AWS::NoValue` resolves to: the property is removed. */
export const NO_VALUE = Symbol('AWS::NoValue');

/** A placeholder for a value the template does not fix: `${Kind:name}` (never contains `}`). */
export function placeholder(kind: string, name: string): string {
  return `\${${kind}${name.replace(/[{}$]/g, '_')}}`;
}

/** The template's Mappings, for `Fn::FindInMap`. */
export type Mappings = Record<string, unknown>;

/**
 * Resolves the intrinsic functions in `v` (any JSON-like value, long form). Strings are returned
 * with placeholders for what the template does not fix; `Ref: AWS::NoValue` is removed from lists.
 */
export function resolve(v: unknown, mappings: Mappings = {}): unknown {
  if (Array.isArray(v)) return v.map((x) => resolve(x, mappings)).filter((x) => x !== NO_VALUE);
  if (!isObject(v)) return v;
  const keys = Object.keys(v);
  const fn = keys.length === 1 ? keys[0]! : '';
  const arg = v[fn];
  if (fn === 'Ref') {
    const name = String(arg);
    if (name === 'AWS::NoValue') return NO_VALUE;
    return name.startsWith('AWS::') ? `\${${name}}` : placeholder('Ref:', name);
  }
  if (fn === 'Fn::GetAtt') {
    const parts = Array.isArray(arg) ? arg.map((x) => text(resolve(x, mappings))) : [String(arg)];
    return placeholder('GetAtt:', parts.join('.'));
  }
  if (fn === 'Fn::ImportValue') return placeholder('ImportValue:', text(resolve(arg, mappings)));
  if (fn === 'Fn::Sub') return sub(arg, mappings);
  if (fn === 'Fn::Join' && Array.isArray(arg) && arg.length === 2) {
    const list = resolve(arg[1], mappings);
    if (Array.isArray(list)) return list.map(text).join(text(resolve(arg[0], mappings)));
    return placeholder('Fn::Join:', text(list));
  }
  if (fn === 'Fn::Select' && Array.isArray(arg) && arg.length === 2) {
    const i = Number(resolve(arg[0], mappings));
    const list = resolve(arg[1], mappings);
    if (Array.isArray(list) && Number.isInteger(i) && i >= 0 && i < list.length) return list[i];
    return placeholder('Fn::Select:', String(arg[0]));
  }
  if (fn === 'Fn::Split' && Array.isArray(arg) && arg.length === 2) {
    const sep = resolve(arg[0], mappings);
    const s = resolve(arg[1], mappings);
    if (typeof sep === 'string' && sep !== '' && typeof s === 'string' && !s.includes('${'))
      return s.split(sep);
    return [placeholder('Fn::Split:', typeof s === 'string' ? s : '')];
  }
  if (fn === 'Fn::FindInMap' && Array.isArray(arg) && arg.length >= 3) {
    const [m, k1, k2] = arg.slice(0, 3).map((x) => resolve(x, mappings));
    const top = typeof m === 'string' ? mappings[m] : undefined;
    const second = isObject(top) && typeof k1 === 'string' ? top[k1] : undefined;
    const hit = isObject(second) && typeof k2 === 'string' ? second[k2] : undefined;
    if (hit !== undefined) return resolve(hit, mappings);
    return placeholder('Fn::FindInMap:', [m, k1, k2].map(text).join('.'));
  }
  if (fn === 'Fn::If' && Array.isArray(arg)) return placeholder('Fn::If:', String(arg[0]));
  if (fn.startsWith('Fn::')) return placeholder(fn, '');
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const r = resolve(x, mappings);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

/** A resolved value as text (a list or object that is not text becomes a placeholder). */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return placeholder('Fn::', 'Value');
}

/**
 * `Fn::Sub`: `${Name}` from the given variables, else a pseudo parameter (kept), a resource
 * attribute (`${GetAtt:Name.Attribute}`) or a reference (`${Ref:Name}`); `${!Literal}` is the
 * literal `${Literal}` (how a template writes an IAM policy variable).
 */
function sub(arg: unknown, mappings: Mappings): string {
  const [template, vars] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, undefined];
  if (typeof template !== 'string') return placeholder('Fn::Sub', '');
  const given = isObject(vars) ? vars : {};
  return template.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (name in given) return text(resolve(given[name], mappings));
    if (name.startsWith('AWS::')) return `\${${name}}`;
    return name.includes('.') ? placeholder('GetAtt:', name) : placeholder('Ref:', name);
  });
}
