/**
 * IAM's wildcard matching, the one glob matcher of the project: `*` (any run, crossing `/` and
 * `:`) and `?` (one character), every other character literal, and with policy Version
 * 2012-10-17 the `${…}` variables and escapes. Iterative with backtracking to the last star:
 * linear in practice, no regular expressions, so a hostile pattern cannot blow up.
 */

/**
 * One pattern element: a literal character, `?`, `*`, a policy variable, or a placeholder for a
 * value infrastructure as code left unresolved (which matches nothing).
 */
export type Token =
  { t: 'lit'; c: string } | { t: 'any' } | { t: 'star' } | { t: 'var' } | { t: 'placeholder' };

const VARIABLE = /^\$\{([^}]*)\}/;

/**
 * The inside of a `${…}` that names a value infrastructure as code did not fix (src/granted/iac):
 * a pseudo parameter (`AWS::AccountId`), an intrinsic (`Fn::If`), a reference to a template
 * resource (`Ref:MyTable`, `GetAtt:MyTable.Arn`, `ImportValue:…`) or a Terraform expression
 * (`tf:aws_s3_bucket.b.arn`). No IAM condition key starts so, and such a value is unknown: it must
 * never match as `*` (a placeholder for one table would otherwise grant every table).
 */
const PLACEHOLDER_KINDS = '(?:AWS::|Fn::|Ref:|GetAtt:|ImportValue:|tf:)';
const PLACEHOLDER = new RegExp(`^${PLACEHOLDER_KINDS}`);
const PLACEHOLDERS = new RegExp(`\\$\\{${PLACEHOLDER_KINDS}[^}]*\\}`, 'g');
const VARIABLES = new RegExp(`\\$\\{(?![*?$]\\})(?!${PLACEHOLDER_KINDS})[^}]*\\}`);

/**
 * `s` with each placeholder written `*`: which values it could stand for (does a grant on
 * `${Ref:MyTable}` grant anything on tables?), never what a request is matched with.
 */
export function placeholdersAsStars(s: string): string {
  return s.includes('${') ? s.replace(PLACEHOLDERS, '*') : s;
}

/**
 * True when `s` is, whole, one placeholder (`${Ref:Action}`): a value infrastructure as code does
 * not fix, kept by name. As an action it matches nothing (no `*` is put in its place).
 */
export function isPlaceholder(s: string): boolean {
  return (
    s.startsWith('${') && s.endsWith('}') && PLACEHOLDER.test(s.slice(2)) && !s.slice(2, -1).includes('}')
  );
}

/** True when `s` holds a policy variable (not an escape such as `${*}`, nor a placeholder). */
export function hasVariable(s: string): boolean {
  return VARIABLES.test(s);
}

/**
 * Tokenises an IAM pattern. With `variables`, `${*}`, `${?}`, `${$}` are the literal characters
 * and any other `${…}` is a variable; without (Version absent or 2008-10-17), `${` is literal.
 */
export function tokenize(pattern: string, variables: boolean): Token[] {
  // One cache per mode, keyed by the pattern itself: a key built per call (mode + pattern) was a
  // new string to hash every time, 9% of a 7-day policy run, which replays every permission.
  const cache = variables ? withVariables : literalOnly;
  const hit = cache.get(pattern);
  if (hit) return hit;
  const out = tokenizeUncached(pattern, variables);
  // Policies repeat a few patterns against thousands of requests; bounded, so hostile input can't grow it.
  if (cache.size >= 10_000) cache.clear();
  cache.set(pattern, out);
  return out;
}

const withVariables = new Map<string, Token[]>();
const literalOnly = new Map<string, Token[]>();

function tokenizeUncached(pattern: string, variables: boolean): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (variables && c === '$') {
      const m = VARIABLE.exec(pattern.slice(i));
      if (m) {
        const inner = m[1] as string;
        out.push(
          inner === '*' || inner === '?' || inner === '$'
            ? { t: 'lit', c: inner }
            : PLACEHOLDER.test(inner)
              ? { t: 'placeholder' }
              : { t: 'var' },
        );
        i += m[0].length - 1;
        continue;
      }
    }
    out.push(c === '*' ? { t: 'star' } : c === '?' ? { t: 'any' } : { t: 'lit', c });
  }
  return out;
}

/**
 * Matches tokens against a value: iterative with backtracking to the last star, so it is linear
 * in practice and a hostile pattern cannot blow up (no regular expressions). A variable matches
 * like `*` when `loose`, and nothing otherwise; a placeholder matches nothing, ever.
 */
export function matchTokens(
  tokens: readonly Token[],
  value: string,
  caseless: boolean,
  loose: boolean,
): boolean {
  const v = caseless ? value.toLowerCase() : value;
  let p = 0;
  let i = 0;
  let star = -1;
  let mark = 0;
  const isStar = (tok: Token | undefined): boolean =>
    tok !== undefined && (tok.t === 'star' || (loose && tok.t === 'var'));
  while (i < v.length) {
    const tok = tokens[p];
    if (tok && (tok.t === 'any' || (tok.t === 'lit' && (caseless ? tok.c.toLowerCase() : tok.c) === v[i]))) {
      p++;
      i++;
    } else if (isStar(tok)) {
      star = p++;
      mark = i;
    } else if (star >= 0) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (isStar(tokens[p])) p++;
  return p === tokens.length;
}

/** Glob match with `*` and `?` (no variables); `caseless` for actions. */
export function globMatch(pattern: string, value: string, caseless = false): boolean {
  return matchTokens(tokenize(pattern, false), value, caseless, false);
}

/** True when an action pattern (`s3:Get*`, `*`) matches an action; case-insensitive as IAM is. */
export function actionMatches(pattern: string, action: string): boolean {
  return globMatch(pattern, action, true);
}

/**
 * True when some string matches both globs (`*`, `?`). Used where the request side is itself a
 * pattern: a resource the trace did not record, or an ARN template from the reference.
 */
export function globsOverlap(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const width = b.length + 1;
  const go = (i: number, j: number): boolean => {
    const key = i * width + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    const ca = a[i];
    const cb = b[j];
    if (ca === undefined && cb === undefined) r = true;
    else if (ca === '*') r = go(i + 1, j) || (cb !== undefined && go(i, j + 1));
    else if (cb === '*') r = go(i, j + 1) || (ca !== undefined && go(i + 1, j));
    else if (ca === undefined || cb === undefined) r = false;
    else r = (ca === '?' || cb === '?' || ca === cb) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}
