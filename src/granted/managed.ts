/**
 * The bundled catalogue of AWS managed policies: the default version of each one's document, so
 * that a template attaching `AWSLambdaSQSQueueExecutionRole` (by ARN, by name, or implied by SAM)
 * is compared with what that policy grants without an account export. A policy the catalogue does
 * not hold is named as unknown by the caller, never assumed empty; a
 * `get-account-authorization-details` export passed with `--granted` wins over it (it is the
 * account's truth).
 *
 * The data file, data/managed-policies.json.gz, is written by tools/managed-policies.ts from
 * iann0036/iam-dataset (MIT licence); the documents are AWS's published content. It is read once,
 * the first time a managed policy is looked up (about 30 ms and 13 MB of heap, docs/performance.md).
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { XrayLpError, EXIT } from '../shared/errors.js';

/** The data file, at the package root: the same place from src/granted and dist/granted. */
const DATA_FILE = new URL('../../data/managed-policies.json.gz', import.meta.url);

/** Where every AWS managed policy's ARN starts, in partition `aws`. */
export const AWS_MANAGED_PREFIX = 'arn:aws:iam::aws:policy/';

/** One AWS managed policy of the catalogue. */
export interface ManagedPolicy {
  /** Its ARN, partition `aws`: `arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole`. */
  readonly arn: string;
  readonly name: string;
  /** Its path, as in the ARN: `/` or `/service-role/`. */
  readonly path: string;
  /** The default version's id (`v2`) and when it became the default (ISO 8601). */
  readonly version: string;
  readonly updated: string;
  /** The default version's policy document. */
  readonly document: unknown;
}

/** Where the catalogue comes from, and how many policies it holds. */
export interface ManagedCatalogueInfo {
  readonly repository: string;
  readonly commit: string;
  /** The date of that commit: how old the documents may be. */
  readonly date: string;
  readonly licence: string;
  readonly policies: number;
}

interface DataFile {
  source: { repository: string; commit: string; date: string; licence: string };
  policies: Record<string, { path: string; version: string; updated: string; document: unknown }>;
}

let loaded: { info: ManagedCatalogueInfo; byName: Map<string, ManagedPolicy> } | undefined;

/** Reads the data file once (lazily: only commands that meet a managed policy pay for it). */
function catalogue(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  let data: DataFile;
  try {
    data = JSON.parse(zlib.gunzipSync(fs.readFileSync(DATA_FILE)).toString('utf8')) as DataFile;
  } catch (err) {
    throw new XrayLpError(
      `the bundled catalogue of AWS managed policies (${DATA_FILE.pathname}) cannot be read (${(err as Error).message}): reinstall xray-lp`,
      EXIT.failure,
    );
  }
  // A Map: a policy name is data, and must not meet Object.prototype (`constructor`, `__proto__`).
  const byName = new Map<string, ManagedPolicy>();
  for (const [name, p] of Object.entries(data.policies))
    byName.set(name, { arn: `${AWS_MANAGED_PREFIX}${p.path.slice(1)}${name}`, name, ...p });
  loaded = { info: { ...data.source, policies: byName.size }, byName };
  return loaded;
}

/** Where the bundled catalogue comes from (loads it). */
export function managedCatalogueInfo(): ManagedCatalogueInfo {
  return catalogue().info;
}

/**
 * The ARN, in partition `aws`, of an AWS managed policy reference: an ARN in any partition
 * (`arn:aws-cn:iam::aws:policy/…` names the same policy), a path and name
 * (`service-role/AWSLambdaSQSQueueExecutionRole`) or a name alone, which is looked up in the
 * catalogue for its path (as SAM does with the account's list). Any other ARN (a customer managed
 * policy, a placeholder) is returned as written.
 */
export function managedPolicyArn(ref: string): string {
  const arn = /^arn:[^:]*:iam::aws:policy\/(.*)$/.exec(ref);
  if (arn) return `${AWS_MANAGED_PREFIX}${arn[1]}`;
  if (ref.startsWith('arn:') || ref.includes('${')) return ref;
  const rest = ref.replace(/^\//, '');
  if (rest.includes('/')) return `${AWS_MANAGED_PREFIX}${rest}`;
  return catalogue().byName.get(rest)?.arn ?? `${AWS_MANAGED_PREFIX}${rest}`;
}

/**
 * The bundled copy of an AWS managed policy, by ARN (any partition), path and name, or name; the
 * path, when given, must be the policy's own (`arn:aws:iam::aws:policy/AWSLambdaSQSQueueExecutionRole`
 * names no policy: the real one is under `service-role/`). Undefined when the catalogue does not
 * hold it: the caller names it as unknown.
 */
export function lookupManagedPolicy(ref: string): ManagedPolicy | undefined {
  const arn = managedPolicyArn(ref);
  if (!arn.startsWith(AWS_MANAGED_PREFIX)) return undefined;
  const name = arn.slice(arn.lastIndexOf('/') + 1);
  const found = catalogue().byName.get(name);
  return found?.arn === arn ? found : undefined;
}
