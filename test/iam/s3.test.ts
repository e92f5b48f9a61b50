import test from 'ava';
import { mapCall, actionsFor } from '../../src/iam/index.js';
import type { IamCall, MappingResult } from '../../src/iam/index.js';
import { parseCopySource } from '../../src/iam/services/s3.js';
import { CTX, call, mapped, noted, perm } from './helpers.js';

const B = 'arn:aws:s3:::my-bucket';
const O = (key: string) => `arn:aws:s3:::my-bucket/${key}`;
const bk = { bucket_name: 'my-bucket', key: 'dir/a.txt' };

const cases: [string, IamCall, MappingResult][] = [
  // Listing
  [
    'ListObjects',
    call('S3', 'ListObjects', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:ListBucket', B, 'bucket')),
  ],
  [
    'ListObjectsV2',
    call('S3', 'ListObjectsV2', { bucket_name: 'my-bucket', prefix: 'dir/' }),
    mapped(perm('s3:ListBucket', B, 'bucket')),
  ],
  [
    'boto3 list_objects_v2',
    call('s3', 'list_objects_v2', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:ListBucket', B, 'bucket')),
  ],
  [
    'HeadBucket',
    call('S3', 'HeadBucket', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:ListBucket', B, 'bucket')),
  ],
  [
    'Java ListVersions',
    call('Amazon S3', 'ListVersions', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:ListBucketVersions', B, 'bucket')),
  ],
  [
    'ListObjectVersions',
    call('S3', 'ListObjectVersions', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:ListBucketVersions', B, 'bucket')),
  ],
  [
    'ListMultipartUploads',
    call('S3', 'ListMultipartUploads', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:ListBucketMultipartUploads', B, 'bucket')),
  ],
  [
    'ListParts',
    call('S3', 'ListParts', bk),
    mapped(perm('s3:ListMultipartUploadParts', O('dir/a.txt'), 'object')),
  ],
  ['ListBuckets', call('S3', 'ListBuckets'), mapped(perm('s3:ListAllMyBuckets', '*'))],
  // Object reads
  ['GetObject', call('S3', 'GetObject', bk), mapped(perm('s3:GetObject', O('dir/a.txt'), 'object'))],
  [
    'GetObject with version',
    call('S3', 'GetObject', { ...bk, version_id: 'v1' }),
    mapped(perm('s3:GetObjectVersion', O('dir/a.txt'), 'object')),
  ],
  ['HeadObject', call('S3', 'HeadObject', bk), mapped(perm('s3:GetObject', O('dir/a.txt'), 'object'))],
  [
    'HeadObject with version',
    call('S3', 'HeadObject', { ...bk, version_id: 'v1' }),
    mapped(perm('s3:GetObjectVersion', O('dir/a.txt'), 'object')),
  ],
  [
    'Java GetObjectMetadata',
    call('AmazonS3', 'GetObjectMetadata', bk),
    mapped(perm('s3:GetObject', O('dir/a.txt'), 'object')),
  ],
  [
    'Java v2 records bucket',
    call('S3', 'GetObject', { bucket: 'my-bucket', key: 'k' }),
    mapped(perm('s3:GetObject', O('k'), 'object')),
  ],
  [
    'OTel aws.s3.bucket',
    call('s3', 'GetObject', { 'aws.s3.bucket': 'my-bucket', 'aws.s3.key': 'k' }),
    mapped(perm('s3:GetObject', O('k'), 'object')),
  ],
  [
    'key with spaces kept whole',
    call('S3', 'GetObject', { bucket_name: 'my-bucket', key: 'a/b c/d.json' }),
    mapped(perm('s3:GetObject', O('a/b c/d.json'), 'object')),
  ],
  // Object writes
  ['PutObject', call('S3', 'PutObject', bk), mapped(perm('s3:PutObject', O('dir/a.txt'), 'object'))],
  [
    'PutObject without key',
    call('S3', 'PutObject', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:PutObject', 'arn:aws:s3:::my-bucket/*', 'object', true)),
  ],
  [
    'PutObject nothing recorded',
    call('S3', 'PutObject'),
    mapped(perm('s3:PutObject', 'arn:aws:s3:::*/*', 'object', true)),
  ],
  [
    'CreateMultipartUpload',
    call('S3', 'CreateMultipartUpload', bk),
    mapped(perm('s3:PutObject', O('dir/a.txt'), 'object')),
  ],
  [
    'Java InitiateMultipartUpload',
    call('Amazon S3', 'InitiateMultipartUpload', bk),
    mapped(perm('s3:PutObject', O('dir/a.txt'), 'object')),
  ],
  ['UploadPart', call('S3', 'UploadPart', bk), mapped(perm('s3:PutObject', O('dir/a.txt'), 'object'))],
  [
    'CompleteMultipartUpload',
    call('S3', 'CompleteMultipartUpload', bk),
    mapped(perm('s3:PutObject', O('dir/a.txt'), 'object')),
  ],
  [
    'AbortMultipartUpload',
    call('S3', 'AbortMultipartUpload', bk),
    mapped(perm('s3:AbortMultipartUpload', O('dir/a.txt'), 'object')),
  ],
  ['DeleteObject', call('S3', 'DeleteObject', bk), mapped(perm('s3:DeleteObject', O('dir/a.txt'), 'object'))],
  [
    'DeleteObject with version',
    call('S3', 'DeleteObject', { ...bk, version_id: 'v9' }),
    mapped(perm('s3:DeleteObjectVersion', O('dir/a.txt'), 'object')),
  ],
  [
    'Java DeleteVersion',
    call('Amazon S3', 'DeleteVersion', { ...bk, version_id: 'v9' }),
    mapped(perm('s3:DeleteObjectVersion', O('dir/a.txt'), 'object')),
  ],
  [
    'DeleteObjects',
    call('S3', 'DeleteObjects', { bucket_name: 'my-bucket' }),
    mapped(
      noted(
        perm('s3:DeleteObject', 'arn:aws:s3:::my-bucket/*', 'object', true),
        'DeleteObjects keys are not recorded; versioned keys would also need s3:DeleteObjectVersion',
      ),
    ),
  ],
  // Copies: read the source, write the destination
  [
    'CopyObject (node)',
    call('S3', 'CopyObject', {
      bucket_name: 'dst',
      key: 'out/b.txt',
      copy_source: 'src-bucket/in/a%20b.txt',
    }),
    mapped(
      perm('s3:GetObject', 'arn:aws:s3:::src-bucket/in/a b.txt', 'object'),
      perm('s3:PutObject', 'arn:aws:s3:::dst/out/b.txt', 'object'),
    ),
  ],
  [
    'CopyObject (python, leading slash, versionId)',
    call('s3', 'CopyObject', { bucket: 'dst', key: 'k2', copy_source: '/src-bucket/k1?versionId=abc' }),
    mapped(
      perm('s3:GetObjectVersion', 'arn:aws:s3:::src-bucket/k1', 'object'),
      perm('s3:PutObject', 'arn:aws:s3:::dst/k2', 'object'),
    ),
  ],
  [
    'Java CopyObject',
    call('Amazon S3', 'CopyObject', {
      source_bucket_name: 'src-a',
      source_key: 'x',
      destination_bucket_name: 'dst-b',
      destination_key: 'y',
    }),
    mapped(
      perm('s3:GetObject', 'arn:aws:s3:::src-a/x', 'object'),
      perm('s3:PutObject', 'arn:aws:s3:::dst-b/y', 'object'),
    ),
  ],
  [
    'UploadPartCopy',
    call('S3', 'UploadPartCopy', { bucket_name: 'dst', key: 'big', copy_source: 'src-bucket/big' }),
    mapped(
      perm('s3:GetObject', 'arn:aws:s3:::src-bucket/big', 'object'),
      perm('s3:PutObject', 'arn:aws:s3:::dst/big', 'object'),
    ),
  ],
  [
    'Java CopyPart',
    call('Amazon S3', 'CopyPart', {
      source_bucket_name: 'src-a',
      source_key: 'x',
      destination_bucket_name: 'dst-b',
      destination_key: 'y',
    }),
    mapped(
      perm('s3:GetObject', 'arn:aws:s3:::src-a/x', 'object'),
      perm('s3:PutObject', 'arn:aws:s3:::dst-b/y', 'object'),
    ),
  ],
  [
    'CopyObject, source not recorded',
    call('S3', 'CopyObject', { bucket_name: 'dst', key: 'k' }),
    mapped(
      perm('s3:GetObject', 'arn:aws:s3:::*/*', 'object', true),
      perm('s3:PutObject', 'arn:aws:s3:::dst/k', 'object'),
    ),
  ],
  // Tagging and ACLs, with and without versions
  [
    'PutObjectTagging',
    call('S3', 'PutObjectTagging', bk),
    mapped(perm('s3:PutObjectTagging', O('dir/a.txt'), 'object')),
  ],
  [
    'Java SetObjectTagging',
    call('Amazon S3', 'SetObjectTagging', bk),
    mapped(perm('s3:PutObjectTagging', O('dir/a.txt'), 'object')),
  ],
  [
    'Java SetObjectTagging versioned',
    call('Amazon S3', 'SetObjectTagging', { ...bk, version_id: 'v' }),
    mapped(perm('s3:PutObjectVersionTagging', O('dir/a.txt'), 'object')),
  ],
  [
    'GetObjectTagging versioned',
    call('S3', 'GetObjectTagging', { ...bk, version_id: 'v' }),
    mapped(perm('s3:GetObjectVersionTagging', O('dir/a.txt'), 'object')),
  ],
  [
    'DeleteObjectTagging versioned',
    call('S3', 'DeleteObjectTagging', { ...bk, version_id: 'v' }),
    mapped(perm('s3:DeleteObjectVersionTagging', O('dir/a.txt'), 'object')),
  ],
  ['GetObjectAcl', call('S3', 'GetObjectAcl', bk), mapped(perm('s3:GetObjectAcl', O('dir/a.txt'), 'object'))],
  [
    'GetObjectAcl versioned',
    call('S3', 'GetObjectAcl', { ...bk, version_id: 'v' }),
    mapped(perm('s3:GetObjectVersionAcl', O('dir/a.txt'), 'object')),
  ],
  [
    'Java SetObjectAcl',
    call('Amazon S3', 'SetObjectAcl', bk),
    mapped(perm('s3:PutObjectAcl', O('dir/a.txt'), 'object')),
  ],
  [
    'Java SetObjectAcl versioned',
    call('Amazon S3', 'SetObjectAcl', { ...bk, version_id: 'v' }),
    mapped(perm('s3:PutObjectVersionAcl', O('dir/a.txt'), 'object')),
  ],
  // Bucket configuration
  [
    'Java SetBucketPolicy',
    call('Amazon S3', 'SetBucketPolicy', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:PutBucketPolicy', B, 'bucket')),
  ],
  [
    'PutBucketPolicy',
    call('S3', 'PutBucketPolicy', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:PutBucketPolicy', B, 'bucket')),
  ],
  [
    'GetBucketLocation',
    call('S3', 'GetBucketLocation', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:GetBucketLocation', B, 'bucket')),
  ],
  [
    'Java SetBucketTaggingConfiguration',
    call('Amazon S3', 'SetBucketTaggingConfiguration', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:PutBucketTagging', B, 'bucket')),
  ],
  [
    'DeleteBucketTagging',
    call('S3', 'DeleteBucketTagging', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:PutBucketTagging', B, 'bucket')),
  ],
  [
    'PutBucketLifecycleConfiguration',
    call('S3', 'PutBucketLifecycleConfiguration', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:PutLifecycleConfiguration', B, 'bucket')),
  ],
  [
    'GetBucketEncryption',
    call('S3', 'GetBucketEncryption', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:GetEncryptionConfiguration', B, 'bucket')),
  ],
  [
    'PutBucketCors',
    call('S3', 'PutBucketCors', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:PutBucketCORS', B, 'bucket')),
  ],
  [
    'CreateBucket',
    call('S3', 'CreateBucket', { bucket_name: 'my-bucket' }),
    mapped(perm('s3:CreateBucket', B, 'bucket')),
  ],
  [
    'legacy bucket name with capitals',
    call('S3', 'ListObjects', { bucket_name: 'Legacy_Bucket' }),
    mapped(perm('s3:ListBucket', 'arn:aws:s3:::Legacy_Bucket', 'bucket')),
  ],
  // Access points, partitions, garbage
  [
    'access point ARN as bucket',
    call('S3', 'GetObject', { bucket_name: 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap1', key: 'k' }),
    mapped(
      perm('s3:GetObject', 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap1/object/k', 'accesspointobject'),
    ),
  ],
  [
    'China partition',
    { service: 'S3', operation: 'GetObject', region: 'cn-north-1', params: bk },
    mapped(perm('s3:GetObject', 'arn:aws-cn:s3:::my-bucket/dir/a.txt', 'object')),
  ],
  [
    'numeric bucket is garbage',
    call('S3', 'ListObjects', { bucket_name: 42 }),
    mapped(perm('s3:ListBucket', 'arn:aws:s3:::*', 'bucket', true)),
  ],
  [
    'bucket with slash is garbage',
    call('S3', 'ListObjects', { bucket_name: 'a/b' }),
    mapped(perm('s3:ListBucket', 'arn:aws:s3:::*', 'bucket', true)),
  ],
  [
    'S3 Object Lambda',
    call('S3', 'WriteGetObjectResponse'),
    mapped(
      perm(
        's3-object-lambda:WriteGetObjectResponse',
        'arn:aws:s3-object-lambda:eu-west-1:123456789012:accesspoint/*',
        'objectlambdaaccesspoint',
        true,
      ),
    ),
  ],
  [
    'unknown S3 operation',
    call('S3', 'FrobnicateBucket'),
    {
      status: 'unmapped',
      reason:
        'no IAM action s3:FrobnicateBucket in the Service Authorization Reference and no explicit mapping',
    },
  ],
];

for (const [title, c, expected] of cases) {
  test(`s3: ${title}`, (t) => {
    t.deepEqual(mapCall(c, CTX), expected);
  });
}

test('s3: S3Control does not use the S3 object table', (t) => {
  // S3Control GetPublicAccessBlock is account-level (s3:GetAccountPublicAccessBlock), never the
  // bucket action; with no S3Control table it stays unmapped rather than borrowing the S3 row.
  t.is(actionsFor('S3Control', 'GetPublicAccessBlock'), undefined);
  t.deepEqual(actionsFor('S3', 'GetPublicAccessBlock'), ['s3:GetBucketPublicAccessBlock']);
});

test('s3: parseCopySource', (t) => {
  t.deepEqual(parseCopySource('b/k'), { bucket: 'b', key: 'k' });
  t.deepEqual(parseCopySource('/b/dir/k%2Bx.txt?versionId=v%3D1'), {
    bucket: 'b',
    key: 'dir/k+x.txt',
    versionId: 'v=1',
  });
  t.deepEqual(parseCopySource('b'), { bucket: 'b' });
  t.deepEqual(parseCopySource('/b/%E0%A4%A'), { bucket: 'b', key: '%E0%A4%A' });
  t.is(parseCopySource('/'), undefined);
});
