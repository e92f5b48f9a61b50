/**
 * What configuration exports said about each function (schema v4 `configs`, written by ingest):
 * the fields the run-time rules read, with a function's event-source mappings gathered.
 */
import type { FunctionConfig } from '../shared/function-config.js';
import type { Store } from './db.js';

/** Per unqualified function ARN, what its configuration exports say (empty without any). */
export function loadFunctionConfigs(store: Store): Map<string, FunctionConfig> {
  const out = new Map<string, FunctionConfig>();
  const rows = store
    .prepare(
      `SELECT kind, function, data FROM configs WHERE function IS NOT NULL AND kind IN ('function', 'mapping')
       ORDER BY function, kind, key`,
    )
    .all() as { kind: string; function: string; data: string }[];
  for (const r of rows) {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(r.data) as Record<string, unknown>;
    } catch {
      continue;
    }
    const c = out.get(r.function) ?? {};
    if (r.kind === 'function') {
      if (typeof data.logGroup === 'string') c.logGroup = data.logGroup;
      if (data.vpc === true) c.vpc = true;
      if (typeof data.tracing === 'string') c.tracing = data.tracing;
      if (typeof data.deadLetter === 'string') c.deadLetter = data.deadLetter;
      if (typeof data.role === 'string') c.role = data.role;
      if (typeof data.kmsKey === 'string') c.envKey = data.kmsKey;
    } else {
      const source = typeof data.eventSource === 'string' ? data.eventSource : undefined;
      if (source) c.eventSources = [...(c.eventSources ?? []), source];
      if (typeof data.kmsKey === 'string')
        c.filterKeys = [
          ...(c.filterKeys ?? []),
          { key: data.kmsKey, ...(source ? { eventSource: source } : {}) },
        ];
    }
    out.set(r.function, c);
  }
  return out;
}

/** Function ARN → role ARN, from configuration exports: a role map without a roles file. */
export function storedRoles(store: Store): Map<string, string> {
  const out = new Map<string, string>();
  for (const [fn, c] of loadFunctionConfigs(store)) if (c.role) out.set(fn, c.role);
  return out;
}
