/**
 * Amazon SageMaker (runtime). `endpoint_name` becomes an endpoint ARN. SageMaker lower-cases
 * resource names in its ARNs (an endpoint created as `MyModel` is
 * `…:endpoint/mymodel`), and IAM compares against that ARN, so we lower-case too.
 */
import { buildArn } from '../resources.js';
import { str } from '../params.js';
import type { Candidate, IamCall, ServiceHandler, Scope, Step } from '../types.js';

const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** SageMaker handler: see the file comment. */
export const sagemaker: ServiceHandler = {
  prefix: 'sagemaker',
  operations: {},
  resources(call: IamCall, _step: Step, types: readonly string[], scope: Scope): Candidate[] {
    if (!types.includes('endpoint')) return [];
    const name = str(call.params, 'endpoint_name', 'aws.sagemaker.endpoint.name');
    if (name === undefined || !ENDPOINT_NAME.test(name)) return [];
    const c = buildArn('sagemaker', 'endpoint', { EndpointName: name.toLowerCase() }, scope);
    return c ? [c] : [];
  },
};
