/**
 * Configuration exports as facts about workloads: the AWS CLI's own outputs of
 * `aws lambda list-functions`, `get-function-configuration`, `get-function`,
 * `list-event-source-mappings`, `get-event-source-mapping` and `aws ecs describe-task-definition`,
 * recognised by content. Only the fields the run-time rules read are kept (src/runtime): the log
 * group, whether the function is in a VPC, its tracing mode, its dead-letter target, its role,
 * its event sources, the customer managed keys of its environment variables and of its mappings'
 * filter criteria (`KMSKeyArn`), and a task definition's two roles. Pure: no I/O, no database.
 *
 * An export that is recognised but malformed (a function without its ARN, a mapping without its
 * function) is refused whole with its position and a hint, as a damaged trace is.
 */
import { parseArn } from '../iam/arn.js';
import { isObject, str } from '../shared/values.js';
import { ShapeError } from './errors.js';

/** One stored configuration fact (a row of `configs`). */
export interface ConfigFact {
  kind: 'function' | 'mapping' | 'task-definition';
  key: string;
  /** The unqualified function ARN (function and mapping facts). */
  function: string | null;
  data: Record<string, string | boolean | string[]>;
}

/** The configuration shapes, as `sources` names them. */
export type ConfigShape = 'lambda-configuration' | 'lambda-event-source-mappings' | 'ecs-task-definition';

const HINT =
  'pass the output of the AWS CLI command unchanged (--output json), e.g. `aws lambda get-function-configuration --function-name NAME > fn.json`';

/** A Lambda function ARN without its qualifier, or undefined. */
function unqualified(arn: unknown): string | undefined {
  const text = str(arn);
  const a = text ? parseArn(text) : undefined;
  if (!a || a.service !== 'lambda' || !a.resource.startsWith('function:')) return undefined;
  const name = a.resource.split(':')[1];
  return name ? `arn:${a.partition}:lambda:${a.region}:${a.account}:function:${name}` : undefined;
}

/** What a value is, if it is a configuration export (undefined: not one). */
export function configShape(v: Record<string, unknown>): ConfigShape | undefined {
  if (Array.isArray(v.Functions) && ('NextMarker' in v || v.Functions.every(isFunctionLike)))
    return 'lambda-configuration';
  if (isFunctionLike(v) || (isObject(v.Configuration) && isFunctionLike(v.Configuration)))
    return 'lambda-configuration';
  if (Array.isArray(v.EventSourceMappings) || isMappingLike(v)) return 'lambda-event-source-mappings';
  if (isObject(v.taskDefinition) && 'taskDefinitionArn' in v.taskDefinition) return 'ecs-task-definition';
  return undefined;
}

function isFunctionLike(v: unknown): boolean {
  return (
    isObject(v) &&
    'FunctionName' in v &&
    ('Runtime' in v || 'Handler' in v || 'PackageType' in v || 'Role' in v)
  );
}

function isMappingLike(v: unknown): boolean {
  return isObject(v) && 'UUID' in v && 'FunctionArn' in v;
}

/** The facts of one configuration export (its shape from {@link configShape}); throws {@link ShapeError}. */
export function configFacts(v: Record<string, unknown>, offset: number): ConfigFact[] {
  if (Array.isArray(v.Functions))
    return v.Functions.map((f, i) => functionFact(f, offset, `Functions[${i}]`));
  if (isObject(v.Configuration)) return [functionFact(v.Configuration, offset, 'Configuration')];
  if (isFunctionLike(v)) return [functionFact(v, offset, 'the function configuration')];
  if (Array.isArray(v.EventSourceMappings))
    return v.EventSourceMappings.map((m, i) => mappingFact(m, offset, `EventSourceMappings[${i}]`));
  if (isMappingLike(v)) return [mappingFact(v, offset, 'the event-source mapping')];
  if (isObject(v.taskDefinition)) return [taskFact(v.taskDefinition, offset)];
  return [];
}

function functionFact(f: unknown, offset: number, where: string): ConfigFact {
  if (!isObject(f)) throw new ShapeError(`${where} is not an object`, offset, HINT);
  const arn = unqualified(f.FunctionArn);
  if (!arn) throw new ShapeError(`${where} has no Lambda FunctionArn`, offset, HINT);
  const data: ConfigFact['data'] = {};
  const role = str(f.Role);
  if (role) data.role = role;
  const logging = isObject(f.LoggingConfig) ? str(f.LoggingConfig.LogGroup) : null;
  if (logging) data.logGroup = logging;
  if (isObject(f.VpcConfig) && Array.isArray(f.VpcConfig.SubnetIds) && f.VpcConfig.SubnetIds.length > 0)
    data.vpc = true;
  const tracing = isObject(f.TracingConfig) ? str(f.TracingConfig.Mode) : null;
  if (tracing) data.tracing = tracing;
  const dlq = isObject(f.DeadLetterConfig) ? str(f.DeadLetterConfig.TargetArn) : null;
  if (dlq) data.deadLetter = dlq;
  // The customer managed key of the environment variables (absent with Lambda's default key).
  const key = str(f.KMSKeyArn);
  if (key) data.kmsKey = key;
  return { kind: 'function', key: arn, function: arn, data };
}

function mappingFact(m: unknown, offset: number, where: string): ConfigFact {
  if (!isObject(m)) throw new ShapeError(`${where} is not an object`, offset, HINT);
  const uuid = str(m.UUID);
  const fn = unqualified(m.FunctionArn);
  if (!uuid || !fn) throw new ShapeError(`${where} has no UUID or no Lambda FunctionArn`, offset, HINT);
  const data: ConfigFact['data'] = {};
  // Self-managed Kafka has no EventSourceArn (its brokers are in SelfManagedEventSource).
  const source = str(m.EventSourceArn);
  if (source) data.eventSource = source;
  const state = str(m.State);
  if (state) data.state = state;
  // The customer managed key of the mapping's filter criteria.
  const key = str(m.KMSKeyArn);
  if (key) data.kmsKey = key;
  return { kind: 'mapping', key: uuid, function: fn, data };
}

function taskFact(t: Record<string, unknown>, offset: number): ConfigFact {
  const arn = str(t.taskDefinitionArn);
  if (!arn) throw new ShapeError('taskDefinition has no taskDefinitionArn', offset, HINT);
  const data: ConfigFact['data'] = {};
  const family = str(t.family);
  if (family) data.family = family;
  const task = str(t.taskRoleArn);
  if (task) data.taskRole = task;
  const exec = str(t.executionRoleArn);
  if (exec) data.executionRole = exec;
  return { kind: 'task-definition', key: arn, function: null, data };
}
