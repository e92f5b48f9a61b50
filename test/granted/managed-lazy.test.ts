/**
 * The bundled catalogue of AWS managed policies is read only when a managed policy is attached,
 * and once (its own file: ava runs each test file in its own process, so nothing else loaded it).
 */
import fs from 'node:fs';
import test from 'ava';

const reads: string[] = [];
const readFileSync = fs.readFileSync;
fs.readFileSync = ((file: fs.PathOrFileDescriptor, ...rest: never[]) => {
  reads.push(String(file));
  return readFileSync(file, ...rest);
}) as typeof fs.readFileSync;

function template(managed: string[]): string {
  return JSON.stringify({
    Resources: {
      R: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: 'r',
          ManagedPolicyArns: managed,
          Policies: [
            {
              PolicyName: 'p',
              PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] },
            },
          ],
        },
      },
    },
  });
}

test('read on the first attached managed policy, once', async (t) => {
  const { mergeGranted, parseGrantedFile } = await import('../../src/granted/granted.js');
  const catalogueReads = (): number => reads.filter((f) => f.includes('managed-policies.json.gz')).length;
  mergeGranted([parseGrantedFile(template([]), 'none.json')]);
  t.is(catalogueReads(), 0, 'no managed policy attached: not read');
  mergeGranted([parseGrantedFile(template(['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']), 'one.json')]);
  t.is(catalogueReads(), 1);
  mergeGranted([parseGrantedFile(template(['AdministratorAccess']), 'two.json')]);
  t.is(catalogueReads(), 1, 'read once');
});
