/**
 * AWS STS. `GetCallerIdentity` is the one STS call that no policy can allow or deny.
 */
import { noPermission } from './rules.js';
import type { ServiceHandler } from '../types.js';

/** STS handler: see the file comment. */
export const sts: ServiceHandler = {
  prefix: 'sts',
  operations: {
    GetCallerIdentity: noPermission('sts:GetCallerIdentity needs no permission and cannot be denied'),
  },
};
