/**
 * The database schema, as an ordered list of migrations. `PRAGMA user_version` records how many
 * have been applied; opening a database applies the missing ones in one transaction each, and
 * refuses a database written by a newer xray-lp.
 *
 * What is stored is the facts needed for queries, evidence and re-derivation (workloads, segment
 * identities, one row per AWS call with its recorded resource parameters), not the documents.
 */

/** One step of the schema. */
export interface Migration {
  /** DDL (and data moves) from the previous version to this one. */
  readonly sql: string;
  /**
   * The rollups must be recomputed from calls after this step. They are rebuilt once, after the
   * last step, with the current definitions (store/rollups.ts): a migration's SQL stays as
   * shipped, while the rollup definitions it would need belong to the newest schema only.
   */
  readonly rebuildRollups?: boolean;
}

/** Each entry moves the schema from version `index` to `index + 1`. Never edit a shipped entry's SQL. */
export const MIGRATIONS: readonly Migration[] = [
  /* v1 */ {
    sql: `
  CREATE TABLE sources (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,          -- bytes read from disk (compressed size for .gz)
    shape       TEXT,                      -- what the input turned out to be
    ingested_at TEXT NOT NULL,             -- one row per successful ingest of an input
    documents   INTEGER NOT NULL,
    traces      INTEGER NOT NULL,
    segments    INTEGER NOT NULL,          -- segment documents read (incl. duplicates)
    calls       INTEGER NOT NULL,          -- AWS calls read (incl. duplicates)
    new_segments INTEGER NOT NULL,
    new_calls   INTEGER NOT NULL,
    problems    INTEGER NOT NULL,
    elapsed_ms  INTEGER NOT NULL
  );

  -- A workload: the identity that made AWS calls (Lambda function, ECS task family, …).
  CREATE TABLE principals (
    id      INTEGER PRIMARY KEY,
    key     TEXT NOT NULL UNIQUE,          -- stable id: unqualified ARN where known, else kind/account/region/name
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL,
    arn     TEXT,
    account TEXT,
    region  TEXT,
    attrs   TEXT NOT NULL DEFAULT '{}'     -- JSON: qualifiers, cluster, container, origin, sdk…
  );

  CREATE TABLE traces (
    id             TEXT PRIMARY KEY,
    duration       REAL,
    limit_exceeded INTEGER,                -- NULL: not reported (2018 dumps)
    source_id      INTEGER NOT NULL REFERENCES sources(id)
  ) WITHOUT ROWID;

  -- Ids that batch-get-traces could not return; removed when the trace arrives later.
  CREATE TABLE unprocessed_traces (
    id        TEXT PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id)
  ) WITHOUT ROWID;

  -- Every top-level document but inferred segments (those only describe a call, stored in calls):
  -- segments and independent subsegments.
  CREATE TABLE segments (
    trace_id     TEXT NOT NULL,
    id           TEXT NOT NULL,
    type         TEXT NOT NULL,            -- 'segment' | 'subsegment'
    parent_id    TEXT,
    principal_id INTEGER REFERENCES principals(id),
    name         TEXT NOT NULL,
    origin       TEXT,
    start_time   REAL,
    end_time     REAL,
    in_progress  INTEGER NOT NULL,
    source_id    INTEGER NOT NULL REFERENCES sources(id),
    PRIMARY KEY (trace_id, id)
  ) WITHOUT ROWID;
  CREATE INDEX segments_unattributed ON segments (trace_id) WHERE principal_id IS NULL AND type = 'subsegment';

  -- Subsegment id → the document that holds it, so that independent subsegments arriving in
  -- another file can be joined to their parent's workload. Kept only where that can happen: for
  -- loose segment documents, and for traces that hold or await independent subsegments (X-Ray
  -- has already merged them in batch-get-traces output, so most traces need none).
  CREATE TABLE nodes (
    trace_id   TEXT NOT NULL,
    id         TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    PRIMARY KEY (trace_id, id)
  ) WITHOUT ROWID;

  -- What was called, once per distinct (service, operation, region, account, parameters, denial):
  -- calls share it, and its IAM permissions are computed once when it is first stored.
  CREATE TABLE targets (
    id              INTEGER PRIMARY KEY,
    sig             TEXT NOT NULL UNIQUE,  -- JSON of the identifying fields
    service         TEXT NOT NULL,         -- IAM prefix ('dynamodb'); '' when unknown
    service_name    TEXT NOT NULL,         -- as recorded
    operation       TEXT,                  -- as recorded; NULL when unknown (plain-HTTP capture)
    region          TEXT,
    account         TEXT,
    params          TEXT,                  -- JSON object of recorded resource parameters
    denied_action   TEXT,                  -- parsed from an AccessDenied message
    denied_resource TEXT,
    mapping         TEXT NOT NULL,         -- 'mapped' | 'no-permission' | 'unmapped'
    mapping_reason  TEXT
  );
  CREATE INDEX targets_service ON targets (service, operation);

  -- The IAM permissions each target needed (src/iam mapping).
  CREATE TABLE target_permissions (
    target_id        INTEGER NOT NULL REFERENCES targets(id),
    action           TEXT NOT NULL,
    resource         TEXT NOT NULL,
    resource_type    TEXT,
    resource_unknown INTEGER NOT NULL,
    note             TEXT,
    PRIMARY KEY (target_id, action, resource)
  ) WITHOUT ROWID;
  CREATE INDEX target_permissions_action ON target_permissions (action);

  -- One row per AWS call, exactly once per (trace, calling subsegment).
  CREATE TABLE calls (
    id           INTEGER PRIMARY KEY,
    trace_id     TEXT NOT NULL,
    sub_id       TEXT NOT NULL,            -- the namespace:aws subsegment (for an inferred-only call: its parent_id)
    segment_id   TEXT NOT NULL,            -- the top-level document the call was read from
    principal_id INTEGER REFERENCES principals(id),
    start_time   REAL NOT NULL,            -- epoch seconds
    end_time     REAL,
    target_id    INTEGER NOT NULL REFERENCES targets(id),
    http_status  INTEGER,
    outcome      TEXT NOT NULL,            -- 'ok' | 'error' | 'fault' | 'throttle' | 'denied'
    error_type   TEXT,
    via          TEXT NOT NULL,            -- 'sdk' | 'inferred' | 'remote'
    source_id    INTEGER NOT NULL REFERENCES sources(id),
    UNIQUE (trace_id, sub_id)
  );
  CREATE INDEX calls_principal_time ON calls (principal_id, start_time);
  CREATE INDEX calls_time ON calls (start_time);
  CREATE INDEX calls_target ON calls (target_id);
  CREATE INDEX calls_unattributed ON calls (trace_id) WHERE principal_id IS NULL;

  -- Per workload and UTC day: recomputed from calls for every (workload, day) an ingest touches,
  -- so that listing workloads never scans every call.
  CREATE TABLE principal_days (
    principal_id INTEGER NOT NULL REFERENCES principals(id),
    day          INTEGER NOT NULL,          -- floor(epoch seconds / 86400)
    calls        INTEGER NOT NULL,
    traces       INTEGER NOT NULL,          -- distinct traces with a call that day
    denied       INTEGER NOT NULL,
    errors       INTEGER NOT NULL,
    faults       INTEGER NOT NULL,
    throttles    INTEGER NOT NULL,
    first_time   REAL NOT NULL,
    last_time    REAL NOT NULL,
    PRIMARY KEY (principal_id, day)
  ) WITHOUT ROWID;

  -- Per workload, UTC day and IAM action: the actions each workload's calls needed that day (from
  -- target_permissions), recomputed with principal_days, so that "distinct actions" per workload
  -- over any range of whole days never scans calls (targets are too many to roll up: S3 keys).
  CREATE TABLE principal_day_actions (
    principal_id INTEGER NOT NULL REFERENCES principals(id),
    day          INTEGER NOT NULL,          -- floor(epoch seconds / 86400)
    action       TEXT NOT NULL,
    calls        INTEGER NOT NULL,          -- calls that needed this action that day
    PRIMARY KEY (principal_id, day, action)
  ) WITHOUT ROWID;

  -- Per workload, UTC day, target and denial: what policies are built from, so that a policy over
  -- whole days never reads calls one by one. Recomputed with principal_days.
  CREATE TABLE principal_day_targets (
    principal_id INTEGER NOT NULL REFERENCES principals(id),
    day          INTEGER NOT NULL,          -- floor(epoch seconds / 86400)
    target_id    INTEGER NOT NULL REFERENCES targets(id),
    denied       INTEGER NOT NULL,          -- 1 for the calls that were denied, 0 for the others
    calls        INTEGER NOT NULL,
    first_time   REAL NOT NULL,
    last_time    REAL NOT NULL,
    trace_min    TEXT NOT NULL,             -- two sample trace ids: the smallest and largest
    trace_max    TEXT NOT NULL,
    PRIMARY KEY (principal_id, day, target_id, denied)
  ) WITHOUT ROWID;

  -- Problems found in the data (not fatal): kept per source, first 100 each.
  CREATE TABLE problems (
    source_id INTEGER NOT NULL REFERENCES sources(id),
    path      TEXT NOT NULL,
    message   TEXT NOT NULL
  );
  `,
  },
  /* v2: one word for the identity that made the calls ("workload"); the per-target rollup keyed by
     the full outcome, so that every usage query over whole days can be answered from it. */
  {
    rebuildRollups: true,
    sql: `
  ALTER TABLE principals RENAME TO workloads;
  ALTER TABLE segments RENAME COLUMN principal_id TO workload_id;
  ALTER TABLE calls RENAME COLUMN principal_id TO workload_id;
  DROP INDEX calls_principal_time;
  CREATE INDEX calls_workload_time ON calls (workload_id, start_time);
  DROP TABLE principal_days;
  DROP TABLE principal_day_actions;
  DROP TABLE principal_day_targets;
  -- Calls whose permission is unknown are reported per workload: their targets are few.
  CREATE INDEX targets_unmapped ON targets (id) WHERE mapping = 'unmapped';
  -- Every workload of a schema 1 database was traced by X-Ray (the only input it read). Release
  -- 0.1.0 stored a first alias as \`qualifier\`: it is the list \`qualifiers\` now.
  UPDATE workloads SET attrs = json_set(
    json_remove(CASE WHEN json_valid(attrs) THEN attrs ELSE '{}' END, '$.qualifier'),
    '$.formats', json('["x-ray"]'),
    '$.qualifiers', CASE
      WHEN json_valid(attrs) AND json_type(attrs, '$.qualifier') = 'text' AND json_type(attrs, '$.qualifiers') IS NULL
        THEN json_array(json_extract(attrs, '$.qualifier'))
      ELSE json_extract(CASE WHEN json_valid(attrs) THEN attrs ELSE '{}' END, '$.qualifiers') END);
  UPDATE workloads SET attrs = json_remove(attrs, '$.qualifiers') WHERE json_type(attrs, '$.qualifiers') = 'null';

  -- An OpenTelemetry span of a Lambda function that does not carry the function's account waits
  -- for a parent span that does (its SERVER span); \`fallback_id\` is the workload its resource
  -- alone gives, taken at the end of the ingest run when no parent in the trace knew better
  -- ("settled": workload_id = fallback_id). A settled span is revisited when a later input brings
  -- more of its trace. A span that found its workload through a parent forgets its fallback.
  ALTER TABLE segments ADD COLUMN fallback_id INTEGER REFERENCES workloads(id);
  CREATE INDEX segments_pending ON segments (fallback_id) WHERE workload_id IS NULL AND fallback_id IS NOT NULL;
  CREATE INDEX segments_settled ON segments (trace_id) WHERE fallback_id IS NOT NULL AND workload_id = fallback_id;
  CREATE INDEX segments_settled_by ON segments (fallback_id) WHERE fallback_id IS NOT NULL AND workload_id = fallback_id;
  -- The fallback workloads: Lambda functions known without their account (\`lambda::region:name\`).
  CREATE INDEX workloads_fallback ON workloads (id) WHERE kind = 'lambda' AND account IS NULL;

  -- Per workload and UTC day. \`traces\` (distinct traces with a call that day) is the one figure
  -- that only this rollup (or the calls themselves) can give.
  CREATE TABLE workload_days (
    workload_id INTEGER NOT NULL REFERENCES workloads(id),
    day         INTEGER NOT NULL,          -- floor(epoch seconds / 86400)
    calls       INTEGER NOT NULL,
    traces      INTEGER NOT NULL,
    denied      INTEGER NOT NULL,
    errors      INTEGER NOT NULL,
    faults      INTEGER NOT NULL,
    throttles   INTEGER NOT NULL,
    first_time  REAL NOT NULL,
    last_time   REAL NOT NULL,
    PRIMARY KEY (workload_id, day)
  ) WITHOUT ROWID;

  -- Per workload, UTC day and IAM action: distinct actions over whole days without reading targets.
  CREATE TABLE workload_day_actions (
    workload_id INTEGER NOT NULL REFERENCES workloads(id),
    day         INTEGER NOT NULL,
    action      TEXT NOT NULL,
    calls       INTEGER NOT NULL,          -- calls that needed this action that day (once per permission)
    PRIMARY KEY (workload_id, day, action)
  ) WITHOUT ROWID;

  -- Per workload, UTC day, target and outcome: what the usage reader (store/usage.ts) reads for
  -- whole days, and computes from calls, in the same shape, for the partial days at the ends.
  CREATE TABLE workload_day_targets (
    workload_id INTEGER NOT NULL REFERENCES workloads(id),
    day         INTEGER NOT NULL,
    target_id   INTEGER NOT NULL REFERENCES targets(id),
    outcome     TEXT NOT NULL,
    calls       INTEGER NOT NULL,
    first_time  REAL NOT NULL,
    last_time   REAL NOT NULL,
    trace_min   TEXT NOT NULL,             -- two sample trace ids: the smallest and the largest
    trace_max   TEXT NOT NULL,
    PRIMARY KEY (workload_id, day, target_id, outcome)
  ) WITHOUT ROWID;
  `,
  },
  /* v3: trace ids interned once. `traces` holds each 35-character id with an integer key, and
     calls, segments and nodes carry the key: their trace-keyed b-trees shrink and, since keys are
     handed out in arrival order, grow at their end instead of at random places (appends stay as
     fast as a fresh load). The rollups keep their sample trace ids as text. See
     docs/performance.md, "A leaner store". */
  {
    sql: `
  ALTER TABLE traces RENAME TO traces_v2;
  CREATE TABLE traces (
    id             INTEGER PRIMARY KEY,      -- the key calls, segments and nodes carry
    xray_id        TEXT NOT NULL UNIQUE,     -- the trace id, X-Ray form (W3C ids as 1-8-24)
    duration       REAL,
    limit_exceeded INTEGER,                  -- NULL: not reported (2018 dumps)
    source_id      INTEGER NOT NULL REFERENCES sources(id)
  );
  INSERT INTO traces (xray_id, duration, limit_exceeded, source_id)
    SELECT id, duration, limit_exceeded, source_id FROM traces_v2 ORDER BY id;
  -- A document may name another trace than the Trace object holding it: every id gets a key.
  INSERT INTO traces (xray_id, duration, limit_exceeded, source_id)
    SELECT trace_id, NULL, NULL, min(source_id) FROM (
      SELECT trace_id, source_id FROM segments UNION ALL SELECT trace_id, source_id FROM calls)
    WHERE trace_id NOT IN (SELECT xray_id FROM traces) GROUP BY trace_id ORDER BY trace_id;
  DROP TABLE traces_v2;

  ALTER TABLE segments RENAME TO segments_v2;
  DROP INDEX segments_unattributed;
  DROP INDEX segments_pending;
  DROP INDEX segments_settled;
  DROP INDEX segments_settled_by;
  CREATE TABLE segments (
    trace_id     INTEGER NOT NULL,         -- traces(id)
    id           TEXT NOT NULL,
    type         TEXT NOT NULL,            -- 'segment' | 'subsegment'
    parent_id    TEXT,
    workload_id  INTEGER REFERENCES workloads(id),
    name         TEXT NOT NULL,
    origin       TEXT,
    start_time   REAL,
    end_time     REAL,
    in_progress  INTEGER NOT NULL,
    source_id    INTEGER NOT NULL REFERENCES sources(id),
    fallback_id  INTEGER REFERENCES workloads(id),
    PRIMARY KEY (trace_id, id)
  ) WITHOUT ROWID;
  INSERT INTO segments SELECT t.id, s.id, s.type, s.parent_id, s.workload_id, s.name, s.origin, s.start_time, s.end_time,
      s.in_progress, s.source_id, s.fallback_id
    FROM segments_v2 s JOIN traces t ON t.xray_id = s.trace_id ORDER BY 1, 2;
  DROP TABLE segments_v2;
  CREATE INDEX segments_unattributed ON segments (trace_id) WHERE workload_id IS NULL AND type = 'subsegment';
  CREATE INDEX segments_pending ON segments (fallback_id) WHERE workload_id IS NULL AND fallback_id IS NOT NULL;
  CREATE INDEX segments_settled ON segments (trace_id) WHERE fallback_id IS NOT NULL AND workload_id = fallback_id;
  CREATE INDEX segments_settled_by ON segments (fallback_id) WHERE fallback_id IS NOT NULL AND workload_id = fallback_id;

  ALTER TABLE nodes RENAME TO nodes_v2;
  CREATE TABLE nodes (
    trace_id   INTEGER NOT NULL,           -- traces(id)
    id         TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    PRIMARY KEY (trace_id, id)
  ) WITHOUT ROWID;
  INSERT INTO nodes SELECT t.id, n.id, n.segment_id FROM nodes_v2 n JOIN traces t ON t.xray_id = n.trace_id ORDER BY 1, 2;
  DROP TABLE nodes_v2;

  ALTER TABLE calls RENAME TO calls_v2;
  DROP INDEX calls_workload_time;
  DROP INDEX calls_time;
  DROP INDEX calls_target;
  DROP INDEX calls_unattributed;
  CREATE TABLE calls (
    id           INTEGER PRIMARY KEY,
    trace_id     INTEGER NOT NULL,         -- traces(id)
    sub_id       TEXT NOT NULL,            -- the namespace:aws subsegment (for an inferred-only call: its parent_id)
    segment_id   TEXT NOT NULL,            -- the top-level document the call was read from
    workload_id  INTEGER REFERENCES workloads(id),
    start_time   REAL NOT NULL,            -- epoch seconds
    end_time     REAL,
    target_id    INTEGER NOT NULL REFERENCES targets(id),
    http_status  INTEGER,
    outcome      TEXT NOT NULL,            -- 'ok' | 'error' | 'fault' | 'throttle' | 'denied'
    error_type   TEXT,
    via          TEXT NOT NULL,            -- 'sdk' | 'inferred' | 'remote'
    source_id    INTEGER NOT NULL REFERENCES sources(id),
    UNIQUE (trace_id, sub_id)
  );
  INSERT INTO calls SELECT c.id, t.id, c.sub_id, c.segment_id, c.workload_id, c.start_time, c.end_time, c.target_id,
      c.http_status, c.outcome, c.error_type, c.via, c.source_id
    FROM calls_v2 c JOIN traces t ON t.xray_id = c.trace_id ORDER BY c.id;
  DROP TABLE calls_v2;
  CREATE INDEX calls_workload_time ON calls (workload_id, start_time);
  CREATE INDEX calls_time ON calls (start_time);
  CREATE INDEX calls_target ON calls (target_id);
  CREATE INDEX calls_unattributed ON calls (trace_id) WHERE workload_id IS NULL;
  `,
  },
  /* v4: configuration exports (aws lambda get-function-configuration, list-event-source-mappings,
     aws ecs describe-task-definition), as facts about workloads with their provenance. A row is
     kept as first stored (like a workload's attributes), so that ingest and merge agree. */ {
    sql: `
  CREATE TABLE configs (
    kind      TEXT NOT NULL,              -- 'function' | 'mapping' | 'task-definition'
    key       TEXT NOT NULL,              -- unqualified function ARN | mapping UUID | task definition ARN
    function  TEXT,                       -- function and mapping: the unqualified function ARN
    data      TEXT NOT NULL,              -- JSON: the fields read (src/ingest/config.ts)
    source_id INTEGER NOT NULL REFERENCES sources(id),
    PRIMARY KEY (kind, key)
  ) WITHOUT ROWID;
  CREATE INDEX configs_function ON configs (function) WHERE function IS NOT NULL;
  `,
  },
  /* v5: CloudTrail records as a second source of evidence (src/ingest/cloudtrail.ts), once each by
     eventID. Mapped to IAM actions when read (src/iam/cloudtrail.ts), like a call's target. */ {
    sql: `
  CREATE TABLE trail_events (
    event_id      TEXT PRIMARY KEY,
    time          REAL NOT NULL,              -- epoch seconds (eventTime)
    event_source  TEXT NOT NULL,
    event_name    TEXT NOT NULL,
    region        TEXT,
    account       TEXT,                       -- recipientAccountId, else the caller's account
    principal     TEXT NOT NULL,              -- 'role' | 'service-linked-role' | 'service' | 'other'
    role          TEXT,                       -- session issuer ARN; for a service's AssumeRole, the role assumed
    session       TEXT,
    invoked_by    TEXT,
    source_ip     TEXT,
    user_agent    TEXT,
    error_code    TEXT,
    management    INTEGER NOT NULL,           -- 0: a data event
    caller        TEXT NOT NULL,              -- 'service' | 'workload' | 'interactive' | 'sdk' (src/ingest/caller.ts)
    caller_reason TEXT NOT NULL,
    request_parameters TEXT,                  -- JSON, or NULL
    resources     TEXT NOT NULL,              -- JSON array of resources[].ARN
    source_id     INTEGER NOT NULL REFERENCES sources(id)
  ) WITHOUT ROWID;
  CREATE INDEX trail_events_role ON trail_events (role, time) WHERE role IS NOT NULL;
  `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
