/**
 * ARNs, regions, partitions and account ids: the project's one ARN parser. Every module that
 * needs a part of an ARN (the evaluator's segment matching, generalising account and region in
 * policies, workload identities) goes through here.
 */

/** Parsed form of an Amazon Resource Name. */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/**
 * The six parts of `arn:partition:service:region:account:resource` as written, the last keeping
 * its colons (`function:name:alias`); undefined when the text is not ARN-shaped. The `arn`
 * prefix is compared without case, as IAM compares resource patterns.
 */
export function arnParts(text: string): [string, string, string, string, string, string] | undefined {
  if (text.length < 4 || text.slice(0, 4).toLowerCase() !== 'arn:') return undefined;
  const parts = text.split(':');
  if (parts.length < 6) return undefined;
  return [
    parts[0] as string,
    parts[1] as string,
    parts[2] as string,
    parts[3] as string,
    parts[4] as string,
    parts.slice(5).join(':'),
  ];
}

/** Parses an ARN; undefined unless it starts with `arn:` and names a partition and a service. */
export function parseArn(text: string): Arn | undefined {
  if (!text.startsWith('arn:')) return undefined;
  const p = arnParts(text);
  if (!p || !p[1] || !p[2]) return undefined;
  return { partition: p[1], service: p[2], region: p[3], account: p[4], resource: p[5] };
}

/** The text of an ARN. */
export function formatArn(a: Arn): string {
  return `arn:${a.partition}:${a.service}:${a.region}:${a.account}:${a.resource}`;
}

/**
 * The AWS partitions: name, the shape of their region names and the DNS suffix of their
 * endpoints (botocore's endpoints.json), most specific region prefix first.
 */
export const PARTITIONS: readonly { name: string; regionPrefix: RegExp; dnsSuffix: string }[] = [
  { name: 'aws-us-gov', regionPrefix: /^us-gov-/, dnsSuffix: 'amazonaws.com' },
  { name: 'aws-iso-b', regionPrefix: /^us-isob-/, dnsSuffix: 'sc2s.sgov.gov' },
  { name: 'aws-iso-f', regionPrefix: /^us-isof-/, dnsSuffix: 'csp.hci.ic.gov' },
  { name: 'aws-iso', regionPrefix: /^us-iso-/, dnsSuffix: 'c2s.ic.gov' },
  { name: 'aws-iso-e', regionPrefix: /^eu-isoe-/, dnsSuffix: 'cloud.adc-e.uk' },
  { name: 'aws-eusc', regionPrefix: /^eusc-/, dnsSuffix: 'amazonaws.eu' },
  { name: 'aws-cn', regionPrefix: /^cn-/, dnsSuffix: 'amazonaws.com.cn' },
  { name: 'aws', regionPrefix: /^/, dnsSuffix: 'amazonaws.com' },
];

/** The partition a region belongs to (`aws` when unknown). */
export function partitionOf(region: string | null | undefined): string {
  if (!region) return 'aws';
  for (const p of PARTITIONS) if (p.regionPrefix.test(region)) return p.name;
  return 'aws';
}

// `eu-west-1`, `us-gov-west-1`, `us-iso-east-1`, `us-isob-east-1`, `us-isof-south-1`,
// `eu-isoe-west-1`, `eusc-de-east-1`, `cn-north-1`, `ap-southeast-7`.
const REGION_RE = /^(?:[a-z]{2}(?:-gov|-iso[bef]?)?|eusc-[a-z]{2})-[a-z]+-\d{1,2}$/;

/** True when the text has the shape of an AWS region name, in any partition. */
export function isRegion(text: string): boolean {
  return REGION_RE.test(text);
}

const ACCOUNT_RE = /^\d{12}$/;

/** True for a 12-digit AWS account id. */
export function isAccountId(text: string): boolean {
  return ACCOUNT_RE.test(text);
}

/** ARN services whose workload kind has another name (ingest/workloads.ts names the kinds). */
const KIND_OF_SERVICE: Readonly<Record<string, string>> = {
  states: 'stepfunctions',
  'execute-api': 'apigateway',
  elasticbeanstalk: 'beanstalk',
};

/**
 * The workload kind a principal (`policy --json`'s key: an ARN, or `kind:account:region:name`)
 * names, for usage rows that carry no `kind` column: the ARN's service, or the key's first part.
 */
export function kindOfPrincipal(principal: string): string {
  const arn = parseArn(principal);
  if (arn) return KIND_OF_SERVICE[arn.service] ?? arn.service;
  return principal.split(':')[0] || 'workload';
}

/** The workload name a principal names, for usage rows that carry no `name`: its last part. */
export function nameOfPrincipal(principal: string): string {
  return principal.split(/[:/]/).pop() ?? principal;
}

/** How a resource spans more than one resource: the fields written as wildcards. */
export type WildcardSpan = 'account' | 'region' | 'resource';

/**
 * Which parts of `resource` are wildcards that span accounts, regions, or every resource of its
 * type (`*`, `table/*`, `*\/*`); empty for a resource that names resources (S3 `bucket/prefix/*`
 * names one prefix of one bucket). `*` for an action that has no resource types is the only
 * resource IAM accepts, so it is not counted.
 */
export function wildcardSpans(resource: string, resourceType: string | null): WildcardSpan[] {
  if (resource === '*') return resourceType === null ? [] : ['resource'];
  const parts = arnParts(resource);
  if (!parts) return [];
  const [, , service, region, account, rest] = parts;
  const out: WildcardSpan[] = [];
  if (/[*?]/.test(account)) out.push('account');
  if (/[*?]/.test(region)) out.push('region');
  // The resource part without its type (`table/`, `function:`, `stateMachine:`): only wildcards left.
  // S3 buckets and objects (`bucket/key`) have no type in their ARN.
  const name = service === 's3' && account === '' ? rest : rest.replace(/^[A-Za-z][\w-]*[/:](?=.)/, '');
  if (/^[*?/:]+$/.test(name)) out.push('resource');
  return out;
}
