/**
 * A stored workload as the run-time rules read it: its kind and identity, and from its stored
 * attributes the formats its data came in and the triggers its traces showed.
 */
import { asObject, strList } from '../shared/values.js';
import type { WorkloadFacts } from './types.js';

/** A workload's stored attributes as an object (empty when the column is damaged). */
export function attrsOf(attrs: string): Record<string, unknown> {
  try {
    return asObject(JSON.parse(attrs)) ?? {};
  } catch {
    return {};
  }
}

/** What a workload tells the run-time rules (`attrs`: its `formats` and `triggers` lists). */
export function factsOf(w: {
  kind: string;
  name: string;
  arn: string | null;
  account: string | null;
  region: string | null;
  attrs?: string;
}): WorkloadFacts {
  const attrs = attrsOf(w.attrs ?? '{}');
  return {
    kind: w.kind,
    name: w.name,
    arn: w.arn,
    account: w.account,
    region: w.region,
    formats: strList(attrs.formats) ?? [],
    triggers: strList(attrs.triggers) ?? [],
  };
}
