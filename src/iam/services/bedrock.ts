/**
 * Amazon Bedrock. The runtime's `Converse` and `ConverseStream` are authorised by
 * `bedrock:InvokeModel` and `bedrock:InvokeModelWithResponseStream`, on the model they name
 * (`gen_ai.request.model`): a foundation model id (`anthropic.claude-…`, whose ARN has no account)
 * or the ARN of an inference profile, a provisioned or an imported model, used as recorded.
 * Agents, knowledge bases and guardrails come from the ids the OpenTelemetry instrumentations
 * record (`aws.bedrock.agent.id`, `aws.bedrock.knowledge_base.id`, `aws.bedrock.guardrail.id` or
 * `.arn`); a data source is authorised on its knowledge base, which has the only resource type.
 */
import { parseArn } from '../arn.js';
import { str } from '../params.js';
import { buildArn, typeOfArn } from '../resources.js';
import { actionInfo } from '../catalogue.js';
import { needs } from './rules.js';
import type { Candidate, IamCall, OperationRule, Scope, ServiceHandler, Step } from '../types.js';

const OPERATIONS: Record<string, OperationRule> = {
  Converse: needs('bedrock:InvokeModel'),
  ConverseStream: needs('bedrock:InvokeModelWithResponseStream'),
};

/** A foundation model id: provider, a dot, the model (`anthropic.claude-3-haiku-20240307-v1:0`). */
const MODEL_ID = /^[a-z0-9-]+\.[A-Za-z0-9._:-]{1,200}$/;

/** Bedrock handler: see the file comment. */
export const bedrock: ServiceHandler = {
  prefix: 'bedrock',
  operations: OPERATIONS,
  preferredTypes: ['foundation-model'],
  resources(call: IamCall, step: Step, types: readonly string[], scope: Scope): Candidate[] {
    const ids = [
      ['knowledge-base', { KnowledgeBaseId: str(call.params, 'aws.bedrock.knowledge_base.id') }],
      ['agent', { AgentId: str(call.params, 'aws.bedrock.agent.id') }],
      ['guardrail', { GuardrailId: str(call.params, 'aws.bedrock.guardrail.id') }],
    ] as const;
    const guardrailArn = str(call.params, 'aws.bedrock.guardrail.arn');
    if (guardrailArn && types.includes('guardrail')) {
      const info = actionInfo(step.action);
      if (info && typeOfArn(guardrailArn, 'bedrock', info.resourceTypes) === 'guardrail')
        return [{ type: 'guardrail', arn: guardrailArn, unknown: false }];
    }
    for (const [type, vars] of ids) {
      const id = Object.values(vars)[0];
      if (id === undefined || !types.includes(type) || !/^[A-Za-z0-9_-]{1,128}$/.test(id)) continue;
      const c = buildArn('bedrock', type, vars, scope);
      if (c) return [c];
    }
    const model = str(call.params, 'gen_ai.request.model');
    if (model === undefined) return [];
    if (model.startsWith('arn:')) {
      const info = actionInfo(step.action);
      const type = info && parseArn(model) ? typeOfArn(model, 'bedrock', info.resourceTypes) : undefined;
      return type !== undefined && types.includes(type.toLowerCase())
        ? [{ type, arn: model, unknown: false }]
        : [];
    }
    // A cross-region inference profile id (`us.anthropic…`) is an inference profile of this account.
    if (/^(us|eu|apac|global|us-gov)\./.test(model) && types.includes('inference-profile')) {
      const c = buildArn('bedrock', 'inference-profile', { ResourceId: model }, scope);
      return c ? [c] : [];
    }
    if (!MODEL_ID.test(model) || !types.includes('foundation-model')) return [];
    const c = buildArn('bedrock', 'foundation-model', { ResourceId: model }, scope);
    return c ? [c] : [];
  },
};
