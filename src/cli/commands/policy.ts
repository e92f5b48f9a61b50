import fs from 'node:fs';
import type { Command } from 'commander';
import { UserInputError } from '../../shared/errors.js';
import { describeFilter, type RawFilterOptions } from '../../query/filters.js';
import {
  FORMAT_EXTENSION,
  POLICY_FORMATS,
  renderAll,
  renderPolicy,
  type PolicyFormat,
} from '../../policy/formats.js';
import {
  buildPolicies,
  type PolicyOptions,
  type PolicyResult,
  type S3ObjectScope,
} from '../../policy/build.js';
import { explainPermission } from '../../policy/explain.js';
import { parseRoleMap } from '../../grants/roles.js';
import { storeStats } from '../../query/stats.js';
import type { Store } from '../../store/db.js';
import { addFilterOptions, filterFromOptions } from '../filter-options.js';
import type { CliIO } from '../io.js';
import { safeJson } from '../output.js';
import { openForRead } from '../options.js';
import { OutDir } from '../out-dir.js';
import { int, safe, safeText, shorten, table } from '../render.js';

interface PolicyCliOptions extends RawFilterOptions {
  json?: boolean;
  format: string;
  out?: string;
  excludeDenied?: boolean;
  s3Objects: string;
  accountWildcard?: boolean;
  regionWildcard?: boolean;
  placeholders?: boolean;
  unknownResources: string;
  maxSize?: string;
  by: string;
  roles?: string;
}

/** Adds the options that shape a policy (shared by `policy` and `explain`). */
function addPolicyOptions(cmd: Command): Command {
  return addFilterOptions(cmd)
    .option('--exclude-denied', 'leave out permissions seen only in denied calls (default: include, flagged)')
    .option(
      '--s3-objects <scope>',
      'S3 object resources: exact keys, common prefix, or whole bucket (exact|prefix|bucket)',
      'prefix',
    )
    .option('--account-wildcard', 'write * for the account in ARNs')
    .option('--region-wildcard', 'write * for the region in ARNs')
    .option('--placeholders', 'write ${AWS::AccountId} and ${AWS::Region} in ARNs, for templates')
    .option(
      '--unknown-resources <mode>',
      'permissions whose resource was not recorded: include (narrowest wildcard) or omit',
      'include',
    )
    .option(
      '--max-size <chars>',
      'split a policy into parts of at most this many characters (IAM managed limit: 6144)',
    )
    .option('--by <subject>', 'one policy per workload, or per IAM role (needs --roles)', 'workload')
    .option(
      '--roles <file>',
      'function → role map: `aws lambda list-functions` output or {"function": "role ARN"}',
    );
}

function policyOptions(o: PolicyCliOptions, store: Store): PolicyOptions {
  const s3 = o.s3Objects;
  if (!['exact', 'prefix', 'bucket'].includes(s3))
    throw new UserInputError(`--s3-objects ${JSON.stringify(s3)}: use exact, prefix or bucket.`);
  if (!['include', 'omit'].includes(o.unknownResources))
    throw new UserInputError(
      `--unknown-resources ${JSON.stringify(o.unknownResources)}: use include or omit.`,
    );
  if (o.placeholders && (o.accountWildcard || o.regionWildcard))
    throw new UserInputError(
      '--placeholders and --account-wildcard/--region-wildcard exclude each other: choose one.',
    );
  let maxSize: number | undefined;
  if (o.maxSize !== undefined) {
    maxSize = Number(o.maxSize);
    if (!Number.isInteger(maxSize) || maxSize < 200)
      throw new UserInputError(
        `--max-size ${JSON.stringify(o.maxSize)}: a whole number of characters, at least 200 (IAM's managed-policy limit is 6144).`,
      );
  }
  if (!['workload', 'role'].includes(o.by))
    throw new UserInputError(`--by ${JSON.stringify(o.by)}: use workload or role.`);
  let roles: PolicyOptions['roles'];
  if (o.by === 'role') {
    if (!o.roles)
      throw new UserInputError('--by role needs --roles FILE (the output of `aws lambda list-functions`).');
    let text: string;
    try {
      text = fs.readFileSync(o.roles, 'utf8');
    } catch (err) {
      throw new UserInputError(`--roles ${o.roles}: ${(err as Error).message}`);
    }
    roles = parseRoleMap(text, o.roles);
  } else if (o.roles) {
    throw new UserInputError('--roles is used with --by role.');
  }
  return {
    filter: filterFromOptions(o, store),
    excludeDenied: o.excludeDenied,
    s3Objects: s3 as S3ObjectScope,
    accountWildcard: o.accountWildcard,
    regionWildcard: o.regionWildcard,
    placeholders: o.placeholders,
    unknownResources: o.unknownResources as 'include' | 'omit',
    maxSize,
    roles,
  };
}

/** Registers `xray-lp policy` and `xray-lp explain`. */
export function registerPolicy(program: Command, io: CliIO): void {
  addPolicyOptions(
    program
      .command('policy')
      .description('one least-privilege IAM policy per workload, from the calls it was seen to make')
      .option('--format <format>', `output format: ${POLICY_FORMATS.join(', ')}`, 'iam')
      .option('--json', 'print policies with warnings and evidence as one JSON array')
      .option('--out <dir>', 'write one file per workload (and evidence.json) into this folder'),
  ).action((o: PolicyCliOptions, cmd: Command) => {
    if (!(POLICY_FORMATS as readonly string[]).includes(o.format))
      throw new UserInputError(
        `--format ${JSON.stringify(o.format)}: use one of ${POLICY_FORMATS.join(', ')}.`,
      );
    const format = o.format as PolicyFormat;
    const store = openForRead(cmd, io);
    try {
      const options = policyOptions(o, store);
      const result = buildPolicies(store, options);
      if (result.policies.length === 0) {
        const s = storeStats(store);
        io.out(
          s.calls === 0
            ? 'No calls recorded: the database is empty. Run `xray-lp ingest <dump>` first.\n'
            : `No calls match (${describeFilter(options.filter)}). Recorded period: ${s.firstCall} … ${s.lastCall}.\n`,
        );
        return;
      }
      if (o.out) {
        writeOut(o.out, result, format, io);
        return;
      }
      if (o.json) {
        io.out(`${safeJson(result.policies)}\n`);
        return;
      }
      io.out(renderOverview(result));
      if (format === 'iam') {
        for (const p of result.policies) {
          io.out(`\n# ${safe(p.kind)} ${safe(p.principal)}\n`);
          io.out(safeText(renderPolicy(p, 'iam')));
        }
      } else {
        io.out(`\n${safeText(renderAll(result.policies, format))}`);
      }
    } finally {
      store.close();
    }
  });

  addPolicyOptions(
    program
      .command('explain')
      .description("why a permission is in a workload's policy, or why it is not")
      .argument('<principal>', 'workload name, ARN or key')
      .argument('<action>', 'IAM action, e.g. dynamodb:PutItem')
      .argument('[resource]', 'resource ARN (wildcards allowed)')
      .option('--json', 'print as JSON'),
  ).action(
    (
      principal: string,
      action: string,
      resource: string | undefined,
      o: PolicyCliOptions & { json?: boolean },
      cmd: Command,
    ) => {
      if (!/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(action))
        throw new UserInputError(
          `${JSON.stringify(action)} is not an IAM action; write it as service:Action (dynamodb:PutItem).`,
        );
      const store = openForRead(cmd, io);
      try {
        const e = explainPermission(store, { ...policyOptions(o, store), principal, action, resource });
        if (o.json) {
          io.out(`${safeJson(e)}\n`);
          return;
        }
        const lines = [
          `${e.granted ? 'GRANTED' : 'NOT GRANTED'}: ${e.action}${e.resource ? ` on ${e.resource}` : ''} for ${e.principal}`,
          ...e.reasons.map((r) => `  ${r}`),
        ];
        if (e.calls > 0) {
          lines.push(
            `  calls: ${int(e.calls)} (${Object.entries(e.byOutcome)
              .map(([k, v]) => `${k} ${int(v)}`)
              .join(', ')}), ${e.firstSeen} … ${e.lastSeen}`,
          );
          lines.push(`  sample traces: ${e.sampleTraceIds.join(', ')}`);
          for (const r of e.resources.slice(0, 10))
            lines.push(`  resource ${r.resource} (${int(r.calls)} call${r.calls === 1 ? '' : 's'})`);
        }
        for (const s of e.statements) lines.push(`  statement ${s.sid}: ${s.resources.join(', ')}`);
        io.out(`${safeText(lines.join('\n'))}\n`);
      } finally {
        store.close();
      }
    },
  );
}

/** The workloads table and warnings printed before the policies. */
export function renderOverview(r: PolicyResult): string {
  const rows = r.policies.map((p) => [
    p.kind,
    shorten(p.name, 40),
    int(p.documents.reduce((a, d) => a + d.Statement.length, 0)),
    int(p.documents.reduce((a, d) => a + d.Statement.reduce((b, s) => b + s.Action.length, 0), 0)),
    int(p.size),
    int(p.warnings.length),
  ]);
  let out = `${table(
    [
      { header: 'kind' },
      { header: 'workload' },
      { header: 'statements', align: 'right' },
      { header: 'actions', align: 'right' },
      { header: 'size', align: 'right' },
      { header: 'warnings', align: 'right' },
    ],
    rows,
  )}\n`;
  const warned = r.policies.filter((p) => p.warnings.length > 0);
  if (warned.length > 0) {
    out += '\nWarnings:\n';
    for (const p of warned)
      for (const w of p.warnings) out += `  ${safe(p.name)}: [${w.code}] ${safe(w.message)}\n`;
  }
  for (const s of r.sharedRoles)
    out += `\nRole ${safe(s.role)} is shared by: ${s.functions.map(safe).join(', ')}\n`;
  if (r.unmatched.length > 0)
    out += `\nNot in the roles file (own policy each): ${r.unmatched.map(safe).join(', ')}\n`;
  return out;
}

function writeOut(dir: string, r: PolicyResult, format: PolicyFormat, io: CliIO): void {
  const out = new OutDir(dir);
  const written: string[] = [];
  const evidence = r.policies.map((p) => {
    const file = out.name(p.name, FORMAT_EXTENSION[format]);
    out.write(
      file,
      format === 'iam'
        ? `${JSON.stringify(p.documents.length === 1 ? p.document : p.documents, null, 2)}\n`
        : renderAll([p], format),
    );
    written.push(file);
    return {
      principal: p.principal,
      kind: p.kind,
      name: p.name,
      file: file.slice(out.dir.length + 1),
      warnings: p.warnings,
      evidence: p.evidence,
    };
  });
  const evidenceFile = out.name('evidence', '.json');
  out.write(evidenceFile, `${JSON.stringify(evidence, null, 2)}\n`);
  io.out(
    `Wrote ${written.length} polic${written.length === 1 ? 'y' : 'ies'} and evidence.json to ${safe(out.dir)}\n`,
  );
}
