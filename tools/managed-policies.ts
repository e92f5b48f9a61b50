/**
 * Writes data/managed-policies.json.gz, the bundled catalogue of AWS managed policies (the default
 * version of each one's document), from iann0036/iam-dataset (MIT licence):
 * `node --import tsx tools/managed-policies.ts PATH/TO/aws/managedpolicies COMMIT DATE`, where the
 * folder is `aws/managedpolicies/` of that repository at COMMIT (one JSON file per policy, with
 * `arn`, `version`, `updatedate`, `deprecated` and `document`) and DATE is the commit's date.
 *
 * The documents themselves are AWS's published content (the IAM API's `GetPolicyVersion`); the
 * dataset gathers them through z0ph/MAMIP. Only what the reader needs is kept: path, default
 * version id, its date and the document. Policies the dataset holds no file for (too large for its
 * repository) and whose documents AWS states in its reference are added from {@link SUPPLEMENT}.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** What the dataset's file for one policy holds (the fields read here). */
interface DatasetPolicy {
  arn?: unknown;
  name?: unknown;
  version?: unknown;
  updatedate?: unknown;
  deprecated?: unknown;
  document?: unknown;
}

/** One policy of the catalogue, as written to the data file. */
interface Entry {
  /** The policy's path (`/service-role/`), as in its ARN. */
  path: string;
  /** Default version id (`v3`). */
  version: string;
  /** When that version was made default (ISO 8601). */
  updated: string;
  document: unknown;
  /** Where the document comes from when not from the dataset. */
  source?: string;
}

/**
 * Policies the dataset's repository does not store (their files exceed its size limit), with the
 * default version AWS documents. AdministratorAccess: v1 since 2015-02-06, per
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html.
 */
const SUPPLEMENT: Readonly<Record<string, Entry>> = {
  AdministratorAccess: {
    path: '/',
    version: 'v1',
    updated: '2015-02-06T18:39:46+00:00',
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    source: 'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html',
  },
};

const [folder, commit, date] = process.argv.slice(2);
if (!folder || !commit || !date)
  throw new Error('usage: managed-policies.ts PATH/TO/aws/managedpolicies COMMIT DATE');
const policies: Record<string, Entry> = {};
let deprecated = 0;
let unlisted = 0;
for (const f of fs.readdirSync(folder).sort()) {
  if (!f.endsWith('.json')) continue;
  const p = JSON.parse(fs.readFileSync(path.join(folder, f), 'utf8')) as DatasetPolicy;
  const m = typeof p.arn === 'string' ? /^arn:aws:iam::aws:policy(\/(?:.*\/)?)([^/]+)$/.exec(p.arn) : null;
  // No ARN: a policy AWS no longer lists (the dataset keeps its last document but not its path).
  if (!m || typeof p.updatedate !== 'string') {
    unlisted++;
    continue;
  }
  if (typeof p.version !== 'string' || !p.document) throw new Error(`${f}: no version or document`);
  // Deprecated policies can still be attached (existing attachments keep working): kept.
  if (p.deprecated === true) deprecated++;
  policies[m[2]!] = { path: m[1]!, version: p.version, updated: p.updatedate, document: p.document };
}
for (const [name, e] of Object.entries(SUPPLEMENT)) policies[name] ??= e;
const names = Object.keys(policies).sort();
const data = {
  source: {
    repository: 'https://github.com/iann0036/iam-dataset',
    path: 'aws/managedpolicies/',
    commit,
    date,
    licence: 'MIT',
  },
  policies: Object.fromEntries(names.map((n) => [n, policies[n]])),
};
const json = JSON.stringify(data);
const target = 'data/managed-policies.json.gz';
fs.mkdirSync(path.dirname(target), { recursive: true });
// mtime 0 in the gzip header: the same input gives the same bytes.
fs.writeFileSync(target, zlib.gzipSync(json, { level: 9 }));
console.log(
  `Wrote ${target}: ${names.length} policies (${deprecated} deprecated; ${unlisted} no longer listed by AWS left out), ${json.length} bytes of JSON, ${fs.statSync(target).size} gzipped`,
);
