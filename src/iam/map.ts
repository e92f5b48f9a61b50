/**
 * Mapping one recorded AWS call to the IAM permissions it needed.
 *
 * Order of decisions: resolve the service to its IAM prefix; take the operation's rule from the
 * service's explicit table, else `prefix:Operation` if the Service Authorization Reference has
 * that action; then, per action, build the resource ARNs from the resource types the reference
 * lists for it. An AccessDenied message naming an action and resource overrides the guess.
 */
import { actionInfo, serviceExists } from './catalogue.js';
import type { ActionInfo } from './catalogue.js';
import { parseArn } from './arn.js';
import { str } from './params.js';
import { handlerFor, HANDLERS, operationKey } from './registry.js';
import { scopeOf, typeOfArn, wildcardArn } from './resources.js';
import { resolveService } from './service-names.js';
import type {
  Candidate,
  IamCall,
  IamContext,
  MappingResult,
  OperationRule,
  Permission,
  Scope,
  ServiceHandler,
  Step,
} from './types.js';

interface Resolved {
  readonly prefix: string;
  readonly handler: ServiceHandler | undefined;
  readonly rule: OperationRule;
}

// Service spellings repeat millions of times; resolving them once is worth a small cache.
const serviceCache = new Map<string, { prefix: string; display: string } | null>();

function resolve(service: string): { prefix: string; display: string } | undefined {
  let hit = serviceCache.get(service);
  if (hit === undefined) {
    const info = resolveService(service);
    // `\u0000prefix`: a prefix the source named exactly (IamCall.prefix), if the reference has it.
    const exact =
      service.startsWith('\u0000') && serviceExists(service.slice(1)) ? service.slice(1) : undefined;
    hit = info
      ? { prefix: info.prefix, display: info.display }
      : exact
        ? { prefix: exact, display: exact }
        : null;
    if (serviceCache.size < 10_000) serviceCache.set(service, hit);
  }
  return hit ?? undefined;
}

// The same (service, operation) pairs recur constantly; cache the decision, bounded in size.
const ruleCache = new Map<string, Resolved | { unmapped: string }>();

function resolveRule(service: string, operation: string): Resolved | { unmapped: string } {
  const cacheKey = `${service}\u0000${operation}`;
  let hit = ruleCache.get(cacheKey);
  if (hit === undefined) {
    hit = decideRule(service, operation);
    if (ruleCache.size < 50_000) ruleCache.set(cacheKey, hit);
  }
  return hit;
}

function decideRule(service: string, operation: string): Resolved | { unmapped: string } {
  const svc = resolve(service);
  if (!svc) return { unmapped: `unknown service "${service}"` };
  const entry = handlerFor(svc.prefix, svc.display);
  const key = operationKey(operation);
  if (!key) return { unmapped: 'no operation recorded' };
  const explicit = entry?.operations.get(key);
  if (explicit) return { prefix: svc.prefix, handler: entry?.handler, rule: explicit };
  const info = actionInfo(svc.prefix, key);
  if (info)
    return {
      prefix: svc.prefix,
      handler: entry?.handler,
      rule: { kind: 'actions', steps: [{ action: info.action }] },
    };
  return {
    unmapped: `no IAM action ${svc.prefix}:${operation} in the Service Authorization Reference and no explicit mapping`,
  };
}

/**
 * The IAM permissions one recorded call needed. Never invents an action: an operation without a
 * known action is `unmapped`, with the reason.
 */
export function mapCall(call: IamCall, ctx?: IamContext): MappingResult {
  const params = call.params ?? {};
  const safeCall: IamCall = params === call.params ? call : { ...call, params };
  const resolved =
    typeof call.service === 'string' && typeof call.operation === 'string'
      ? resolveRule(
          call.prefix !== undefined && resolveService(call.service) === undefined
            ? `\u0000${call.prefix}`
            : call.service,
          call.operation,
        )
      : { unmapped: 'service or operation missing' };
  const scope = scopeOf(safeCall, ctx);
  let result: MappingResult;
  if ('unmapped' in resolved) result = { status: 'unmapped', reason: resolved.unmapped };
  else if (resolved.rule.kind === 'no-permission')
    return { status: 'no-permission', reason: resolved.rule.reason };
  else if (resolved.rule.kind === 'unmapped') result = { status: 'unmapped', reason: resolved.rule.reason };
  else
    result = {
      status: 'mapped',
      permissions: permissionsFor(safeCall, resolved.rule.steps, resolved.handler, scope),
    };
  return applyDenied(params, result, scope);
}

function permissionsFor(
  call: IamCall,
  steps: readonly Step[],
  handler: ServiceHandler | undefined,
  scope: Scope,
): Permission[] {
  const out: Permission[] = [];
  for (const step of steps) {
    const useVersion =
      step.versionAction !== undefined && handler?.versioned?.(call.params, step.role) === true;
    const info = actionInfo(useVersion ? (step.versionAction as string) : step.action);
    // Unreachable for table entries (the enumeration test proves they exist); kept as a guard.
    if (!info) continue;
    for (const p of resourcesFor(call, step, info, handler, scope)) {
      if (!out.some((o) => o.action === p.action && o.resource === p.resource)) out.push(p);
    }
  }
  return out;
}

function resourcesFor(
  call: IamCall,
  step: Step,
  info: ActionInfo,
  handler: ServiceHandler | undefined,
  scope: Scope,
): Permission[] {
  const note = step.note !== undefined ? { note: step.note } : {};
  if (info.resourceTypes.length === 0)
    return [{ action: info.action, resource: '*', resourceUnknown: false, ...note }];
  const keys = info.resourceTypes.map((rt) => rt.key.toLowerCase());
  const found: Candidate[] = handler?.resources
    ? handler.resources(call, step, keys, scope)
    : arnParams(call.params, info);
  const matched = found.filter((c) => keys.includes(c.type.toLowerCase()));
  if (matched.length > 0) {
    return matched.map((c) => ({
      action: info.action,
      resource: c.arn,
      resourceType: info.resourceTypes[keys.indexOf(c.type.toLowerCase())]?.key ?? c.type,
      resourceUnknown: c.unknown,
      ...note,
    }));
  }
  // Nothing recorded: the wildcard for the action's main resource type, flagged as unknown.
  const preferred = handler?.preferredTypes?.find((t) => keys.includes(t));
  const rt =
    (preferred !== undefined ? info.resourceTypes[keys.indexOf(preferred)] : undefined) ??
    info.resourceTypes.find((r) => r.required) ??
    info.resourceTypes[0];
  if (!rt) return [{ action: info.action, resource: '*', resourceUnknown: false, ...note }];
  return [
    {
      action: info.action,
      resource: wildcardArn(rt, scope),
      resourceType: rt.key,
      resourceUnknown: true,
      ...note,
    },
  ];
}

/**
 * For services without a handler: recorded ARN-valued ids (OTel `aws.secretsmanager.secret.arn`,
 * `aws.step_functions.state_machine.arn`…) that are instances of one of the action's resource
 * types. Only keys that name an ARN are read, so unrelated values never become resources.
 */
function arnParams(params: Record<string, unknown>, info: ActionInfo): Candidate[] {
  const out: Candidate[] = [];
  for (const key in params) {
    if (key === 'denied_resource' || !/(^|[._])arn$/i.test(key)) continue;
    const arn = str(params, key);
    if (arn === undefined) continue;
    const type = typeOfArn(arn, info.service, info.resourceTypes);
    if (type !== undefined && !out.some((c) => c.arn === arn)) out.push({ type, arn, unknown: false });
  }
  return out;
}

/**
 * An AccessDenied message names the exact action and resource IAM evaluated: prefer them. The
 * named action replaces our guess for that action (or is added: e.g. `kms:Decrypt` behind an
 * S3 read, which we never infer ourselves). Ignored unless the action exists in the reference.
 */
function applyDenied(params: Record<string, unknown>, result: MappingResult, scope: Scope): MappingResult {
  const deniedAction = str(params, 'denied_action');
  if (deniedAction === undefined) return result;
  const info = actionInfo(deniedAction);
  if (!info) return result;
  const deniedResource = str(params, 'denied_resource');
  const resource =
    deniedResource === '*' || (deniedResource && parseArn(deniedResource)) ? deniedResource : undefined;
  let permission: Permission;
  if (resource !== undefined) {
    const type = resource === '*' ? undefined : typeOfArn(resource, info.service, info.resourceTypes);
    permission = {
      action: info.action,
      resource,
      ...(type ? { resourceType: type } : {}),
      resourceUnknown: false,
    };
  } else {
    // The message named the action but no resource: fall back to what the trace recorded.
    const mapped =
      result.status === 'mapped' ? result.permissions.filter((p) => p.action === info.action) : [];
    if (mapped.length > 0) return result;
    permission = resourcesFor(
      { service: info.service, operation: info.name, params },
      { action: info.action },
      info,
      undefined,
      scope,
    )[0] ?? {
      action: info.action,
      resource: '*',
      resourceUnknown: false,
    };
  }
  const others = result.status === 'mapped' ? result.permissions.filter((p) => p.action !== info.action) : [];
  return { status: 'mapped', permissions: [...others, permission] };
}

/**
 * The actions an operation needs, ignoring resources and version ids (`s3:GetObject` for
 * `HeadObject`). `'no-permission'` for calls IAM does not authorise; undefined when unmapped.
 */
export function actionsFor(service: string, operation: string): string[] | 'no-permission' | undefined {
  const resolved = resolveRule(service, operation);
  if ('unmapped' in resolved || resolved.rule.kind === 'unmapped') return undefined;
  if (resolved.rule.kind === 'no-permission') return 'no-permission';
  return [...new Set(resolved.rule.steps.map((s) => s.action))];
}

/** Every action the explicit tables can emit, version variants included, sorted. */
export function allMappedActions(): string[] {
  const out = new Set<string>();
  for (const handler of HANDLERS) {
    for (const rule of Object.values(handler.operations)) {
      if (rule.kind !== 'actions') continue;
      for (const step of rule.steps) {
        out.add(step.action);
        if (step.versionAction !== undefined) out.add(step.versionAction);
      }
    }
  }
  return [...out].sort();
}
