/** Parsed form of an Amazon Resource Name. */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/**
 * Parses `arn:partition:service:region:account:resource`. The resource part may itself contain
 * colons (`function:name:alias`), so only the first five separators split.
 */
export function parseArn(text: string): Arn | undefined {
  if (!text.startsWith('arn:')) return undefined;
  const parts = text.split(':');
  if (parts.length < 6) return undefined;
  const [, partition, service, region, account] = parts as [string, string, string, string, string];
  if (!partition || !service) return undefined;
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}

/** The partition a region belongs to: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`. */
export function partitionOf(region: string | null | undefined): string {
  if (!region) return 'aws';
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  return 'aws';
}

const REGION_RE = /^[a-z]{2}(-gov|-iso|-isob)?-[a-z]+-\d$/;

/** True when the text has the shape of an AWS region name (`eu-west-1`, `us-gov-west-1`). */
export function isRegion(text: string): boolean {
  return REGION_RE.test(text);
}

const ACCOUNT_RE = /^\d{12}$/;

/** True for a 12-digit AWS account id. */
export function isAccountId(text: string): boolean {
  return ACCOUNT_RE.test(text);
}
