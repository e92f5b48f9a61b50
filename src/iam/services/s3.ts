/**
 * Amazon S3. Most S3 operations are authorised by an action of a different name
 * (`ListObjectsV2` → `s3:ListBucket`, `HeadObject` → `s3:GetObject`, the multipart family →
 * `s3:PutObject`), the Java SDK v1 records its own request names (`SetObjectTagging`,
 * `GetObjectMetadata`, `CopyPart`…), versioned requests need the `…Version…` actions, and a
 * copy needs a read on the source and a write on the destination.
 */
import { buildArn } from '../resources.js';
import { present, str } from '../params.js';
import { needs, unmapped, versioned } from './rules.js';
import type { Candidate, IamCall, OperationRule, Scope, ServiceHandler, Step, StepRole } from '../types.js';

const GET_OBJECT = versioned('s3:GetObject', 's3:GetObjectVersion');
const PUT_OBJECT = needs('s3:PutObject');
const DELETE_OBJECT = versioned('s3:DeleteObject', 's3:DeleteObjectVersion');
const COPY = needs(
  { action: 's3:GetObject', versionAction: 's3:GetObjectVersion', role: 'source' },
  { action: 's3:PutObject', role: 'target' },
);

/**
 * Operations whose action is not `s3:<Operation>`. Keys cover the SDK v2/v3 and boto3 names and
 * the Java SDK v1 / .NET request names (class name minus `Request`) that X-Ray records.
 */
const OPERATIONS: Record<string, OperationRule> = {
  // Listing
  ListObjects: needs('s3:ListBucket'),
  ListObjectsV2: needs('s3:ListBucket'),
  ListNextBatchOfObjects: needs('s3:ListBucket'), // Java v1 paging
  HeadBucket: needs('s3:ListBucket'),
  DoesBucketExist: needs('s3:ListBucket'), // Java v1 issues a HeadBucket
  DoesBucketExistV2: needs('s3:ListBucket'),
  ListObjectVersions: needs('s3:ListBucketVersions'),
  ListVersions: needs('s3:ListBucketVersions'), // Java v1
  ListNextBatchOfVersions: needs('s3:ListBucketVersions'), // Java v1 paging
  ListMultipartUploads: needs('s3:ListBucketMultipartUploads'),
  ListParts: needs('s3:ListMultipartUploadParts'),
  ListBuckets: needs('s3:ListAllMyBuckets'),
  ListDirectoryBuckets: needs('s3express:ListAllMyDirectoryBuckets'),
  GetS3AccountOwner: needs('s3:ListAllMyBuckets'), // Java v1: a ListBuckets call

  // Object reads and writes
  GetObject: GET_OBJECT,
  HeadObject: GET_OBJECT,
  GetObjectMetadata: GET_OBJECT, // Java v1 name of HeadObject
  DoesObjectExist: GET_OBJECT, // Java v1 helper issuing a HeadObject
  SelectObjectContent: needs('s3:GetObject'),
  GetObjectTorrent: versioned('s3:GetObjectTorrent', 's3:GetObjectVersionTorrent'),
  GetObjectAttributes: versioned('s3:GetObjectAttributes', 's3:GetObjectVersionAttributes'),
  PutObject: PUT_OBJECT,
  CreateMultipartUpload: PUT_OBJECT,
  InitiateMultipartUpload: PUT_OBJECT, // Java v1
  UploadPart: PUT_OBJECT,
  CompleteMultipartUpload: PUT_OBJECT,
  AbortMultipartUpload: needs('s3:AbortMultipartUpload'),
  DeleteObject: DELETE_OBJECT,
  DeleteVersion: needs('s3:DeleteObjectVersion'), // Java v1: always names a version
  // The keys (and whether any names a version) are not recorded for a multi-object delete.
  DeleteObjects: needs({
    action: 's3:DeleteObject',
    note: 'DeleteObjects keys are not recorded; versioned keys would also need s3:DeleteObjectVersion',
  }),
  CopyObject: COPY,
  UploadPartCopy: COPY,
  CopyPart: COPY, // Java v1 name of UploadPartCopy
  RestoreObject: needs('s3:RestoreObject'),
  RestoreObjectV2: needs('s3:RestoreObject'), // Java v1

  // Object sub-resources; versioned variants when the call names a version
  GetObjectTagging: versioned('s3:GetObjectTagging', 's3:GetObjectVersionTagging'),
  PutObjectTagging: versioned('s3:PutObjectTagging', 's3:PutObjectVersionTagging'),
  SetObjectTagging: versioned('s3:PutObjectTagging', 's3:PutObjectVersionTagging'), // Java v1
  DeleteObjectTagging: versioned('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'),
  GetObjectAcl: versioned('s3:GetObjectAcl', 's3:GetObjectVersionAcl'),
  PutObjectAcl: versioned('s3:PutObjectAcl', 's3:PutObjectVersionAcl'),
  SetObjectAcl: versioned('s3:PutObjectAcl', 's3:PutObjectVersionAcl'), // Java v1
  GetObjectLegalHold: needs('s3:GetObjectLegalHold'),
  PutObjectLegalHold: needs('s3:PutObjectLegalHold'),
  SetObjectLegalHold: needs('s3:PutObjectLegalHold'), // Java v1
  GetObjectRetention: needs('s3:GetObjectRetention'),
  PutObjectRetention: needs('s3:PutObjectRetention'),
  SetObjectRetention: needs('s3:PutObjectRetention'), // Java v1

  // Bucket configuration (SDK v2/v3 name, then the Java v1 names)
  SetBucketPolicy: needs('s3:PutBucketPolicy'),
  SetBucketAcl: needs('s3:PutBucketAcl'),
  SetBucketTaggingConfiguration: needs('s3:PutBucketTagging'),
  GetBucketTaggingConfiguration: needs('s3:GetBucketTagging'),
  // There is no s3:DeleteBucketTagging: deleting the tag set is a PutBucketTagging.
  DeleteBucketTagging: needs('s3:PutBucketTagging'),
  DeleteBucketTaggingConfiguration: needs('s3:PutBucketTagging'),
  SetBucketVersioningConfiguration: needs('s3:PutBucketVersioning'),
  GetBucketVersioningConfiguration: needs('s3:GetBucketVersioning'),
  PutBucketLifecycle: needs('s3:PutLifecycleConfiguration'),
  PutBucketLifecycleConfiguration: needs('s3:PutLifecycleConfiguration'),
  SetBucketLifecycleConfiguration: needs('s3:PutLifecycleConfiguration'),
  GetBucketLifecycle: needs('s3:GetLifecycleConfiguration'),
  GetBucketLifecycleConfiguration: needs('s3:GetLifecycleConfiguration'),
  DeleteBucketLifecycle: needs('s3:PutLifecycleConfiguration'),
  DeleteBucketLifecycleConfiguration: needs('s3:PutLifecycleConfiguration'),
  PutBucketNotification: needs('s3:PutBucketNotification'),
  PutBucketNotificationConfiguration: needs('s3:PutBucketNotification'),
  SetBucketNotificationConfiguration: needs('s3:PutBucketNotification'),
  GetBucketNotificationConfiguration: needs('s3:GetBucketNotification'),
  PutBucketCors: needs('s3:PutBucketCORS'),
  SetBucketCrossOriginConfiguration: needs('s3:PutBucketCORS'),
  GetBucketCors: needs('s3:GetBucketCORS'),
  GetBucketCrossOriginConfiguration: needs('s3:GetBucketCORS'),
  DeleteBucketCors: needs('s3:PutBucketCORS'),
  DeleteBucketCrossOriginConfiguration: needs('s3:PutBucketCORS'),
  SetBucketWebsiteConfiguration: needs('s3:PutBucketWebsite'),
  GetBucketWebsiteConfiguration: needs('s3:GetBucketWebsite'),
  DeleteBucketWebsiteConfiguration: needs('s3:DeleteBucketWebsite'),
  SetBucketLoggingConfiguration: needs('s3:PutBucketLogging'),
  GetBucketLoggingConfiguration: needs('s3:GetBucketLogging'),
  GetBucketEncryption: needs('s3:GetEncryptionConfiguration'),
  PutBucketEncryption: needs('s3:PutEncryptionConfiguration'),
  SetBucketEncryption: needs('s3:PutEncryptionConfiguration'),
  DeleteBucketEncryption: needs('s3:PutEncryptionConfiguration'),
  GetBucketReplication: needs('s3:GetReplicationConfiguration'),
  GetBucketReplicationConfiguration: needs('s3:GetReplicationConfiguration'),
  PutBucketReplication: needs('s3:PutReplicationConfiguration'),
  SetBucketReplicationConfiguration: needs('s3:PutReplicationConfiguration'),
  DeleteBucketReplication: needs('s3:PutReplicationConfiguration'),
  DeleteBucketReplicationConfiguration: needs('s3:PutReplicationConfiguration'),
  GetBucketAccelerateConfiguration: needs('s3:GetAccelerateConfiguration'),
  PutBucketAccelerateConfiguration: needs('s3:PutAccelerateConfiguration'),
  SetBucketAccelerateConfiguration: needs('s3:PutAccelerateConfiguration'),
  GetBucketAnalyticsConfiguration: needs('s3:GetAnalyticsConfiguration'),
  PutBucketAnalyticsConfiguration: needs('s3:PutAnalyticsConfiguration'),
  SetBucketAnalyticsConfiguration: needs('s3:PutAnalyticsConfiguration'),
  DeleteBucketAnalyticsConfiguration: needs('s3:PutAnalyticsConfiguration'),
  ListBucketAnalyticsConfigurations: needs('s3:GetAnalyticsConfiguration'),
  GetBucketInventoryConfiguration: needs('s3:GetInventoryConfiguration'),
  PutBucketInventoryConfiguration: needs('s3:PutInventoryConfiguration'),
  SetBucketInventoryConfiguration: needs('s3:PutInventoryConfiguration'),
  DeleteBucketInventoryConfiguration: needs('s3:PutInventoryConfiguration'),
  ListBucketInventoryConfigurations: needs('s3:GetInventoryConfiguration'),
  GetBucketMetricsConfiguration: needs('s3:GetMetricsConfiguration'),
  PutBucketMetricsConfiguration: needs('s3:PutMetricsConfiguration'),
  SetBucketMetricsConfiguration: needs('s3:PutMetricsConfiguration'),
  DeleteBucketMetricsConfiguration: needs('s3:PutMetricsConfiguration'),
  ListBucketMetricsConfigurations: needs('s3:GetMetricsConfiguration'),
  GetBucketIntelligentTieringConfiguration: needs('s3:GetIntelligentTieringConfiguration'),
  PutBucketIntelligentTieringConfiguration: needs('s3:PutIntelligentTieringConfiguration'),
  SetBucketIntelligentTieringConfiguration: needs('s3:PutIntelligentTieringConfiguration'),
  DeleteBucketIntelligentTieringConfiguration: needs('s3:PutIntelligentTieringConfiguration'),
  ListBucketIntelligentTieringConfigurations: needs('s3:GetIntelligentTieringConfiguration'),
  GetObjectLockConfiguration: needs('s3:GetBucketObjectLockConfiguration'),
  PutObjectLockConfiguration: needs('s3:PutBucketObjectLockConfiguration'),
  SetObjectLockConfiguration: needs('s3:PutBucketObjectLockConfiguration'),
  GetPublicAccessBlock: needs('s3:GetBucketPublicAccessBlock'),
  PutPublicAccessBlock: needs('s3:PutBucketPublicAccessBlock'),
  SetPublicAccessBlock: needs('s3:PutBucketPublicAccessBlock'),
  DeletePublicAccessBlock: needs('s3:PutBucketPublicAccessBlock'),
  DeleteBucketOwnershipControls: needs('s3:PutBucketOwnershipControls'),
  SetRequestPaymentConfiguration: needs('s3:PutBucketRequestPayment'),
  GetRequestPaymentConfiguration: needs('s3:GetBucketRequestPayment'),
  // The Java v1 helper that reads the region of a bucket.
  GetBucketLocation: needs('s3:GetBucketLocation'),

  // S3 Object Lambda responses are authorised under their own service prefix.
  WriteGetObjectResponse: needs('s3-object-lambda:WriteGetObjectResponse'),
  // Directory buckets authorise every data call through one session.
  CreateSession: needs('s3express:CreateSession'),

  // Client-side helpers that are not S3 API calls.
  GeneratePresignedUrl: unmapped(
    'GeneratePresignedUrl signs locally; the later request is what gets authorised',
  ),
};

const BUCKET_NAME = /^[A-Za-z0-9._-]{3,255}$/;

/** Bucket and key of the destination (or the only side) of a call. */
function target(params: Record<string, unknown>): { bucket?: string; key?: string } {
  return {
    bucket: str(params, 'destination_bucket_name', 'bucket_name', 'bucket', 'aws.s3.bucket'),
    key: str(params, 'destination_key', 'key', 'aws.s3.key'),
  };
}

/** `copy_source` as recorded: `bucket/key` or `/bucket/key`, URL-encoded, maybe `?versionId=…`. */
export function parseCopySource(
  text: string,
): { bucket: string; key?: string; versionId?: string } | undefined {
  let rest = text.startsWith('/') ? text.slice(1) : text;
  let versionId: string | undefined;
  const q = rest.indexOf('?');
  if (q >= 0) {
    const m = /(?:^|&)versionId=([^&]*)/.exec(rest.slice(q + 1));
    if (m?.[1]) versionId = safeDecode(m[1]);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  const bucket = safeDecode(slash < 0 ? rest : rest.slice(0, slash));
  const key = slash < 0 ? undefined : safeDecode(rest.slice(slash + 1));
  if (!bucket) return undefined;
  return { bucket, ...(key ? { key } : {}), ...(versionId ? { versionId } : {}) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Bucket, key and whether a version was named, for the source of a copy. */
function source(params: Record<string, unknown>): { bucket?: string; key?: string; version: boolean } {
  const bucket = str(params, 'source_bucket_name');
  if (bucket !== undefined) {
    return { bucket, key: str(params, 'source_key'), version: present(params, 'source_version_id') };
  }
  const cs = str(params, 'copy_source');
  const parsed = cs !== undefined ? parseCopySource(cs) : undefined;
  if (!parsed) return { version: present(params, 'source_version_id') };
  return {
    bucket: parsed.bucket,
    key: parsed.key,
    version: parsed.versionId !== undefined || present(params, 'source_version_id'),
  };
}

function candidates(
  side: { bucket?: string; key?: string },
  types: readonly string[],
  scope: Scope,
): Candidate[] {
  const out: Candidate[] = [];
  const { bucket, key } = side;
  if (bucket === undefined) return out;
  if (bucket.startsWith('arn:')) {
    // Access point ARNs may be passed in place of a bucket name.
    if (!/:accesspoint\/[^/]+$/.test(bucket)) return out;
    if (types.includes('accesspoint')) out.push({ type: 'accesspoint', arn: bucket, unknown: false });
    if (types.includes('accesspointobject')) {
      out.push({
        type: 'accesspointobject',
        arn: `${bucket}/object/${key ?? '*'}`,
        unknown: key === undefined,
      });
    }
    return out;
  }
  // Bucket names (including legacy us-east-1 ones) use letters, digits, `.`, `-`, `_` only.
  if (!BUCKET_NAME.test(bucket)) return out;
  for (const type of ['bucket', 'object'] as const) {
    if (!types.includes(type)) continue;
    const c = buildArn(
      's3',
      type,
      { BucketName: bucket, ...(key !== undefined ? { ObjectName: key } : {}) },
      scope,
    );
    if (c) out.push(c);
  }
  return out;
}

/** S3 handler: see the file comment. */
export const s3: ServiceHandler = {
  prefix: 's3',
  // S3Control shares the prefix but its operations are account-level, not the ones above.
  displays: ['S3'],
  operations: OPERATIONS,
  preferredTypes: ['object', 'bucket'],
  versioned(params: Record<string, unknown>, role: StepRole | undefined): boolean {
    return role === 'source' ? source(params).version : present(params, 'version_id');
  },
  resources(call: IamCall, step: Step, types: readonly string[], scope: Scope): Candidate[] {
    return candidates(step.role === 'source' ? source(call.params) : target(call.params), types, scope);
  },
};
