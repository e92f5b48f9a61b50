/**
 * Runs each execution environment of the plan in its own child process (workload.ts) against the
 * local stub, and collects the spans the real instrumentation produced (tracing.ts dumps them).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sdkChildEnv } from '../../common/sdk-calls.js';
import { startStub, type StubLogEntry } from '../../common/stub.js';
import { stubConfig, type Environment } from './plan.js';
import type { RawCapture } from './tracing.js';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const LAMBDA_TASK_ROOT = path.join(here, 'lambda-task');

/** The folder given on the command line as `--<name> <dir>`, resolved, or undefined. */
export function dirOption(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? process.argv[i + 1] : undefined;
  return value ? path.resolve(value) : undefined;
}

/** The environment variables a process gets in its platform (plus the workload's own). */
export function platformEnv(
  e: Environment,
  stub: { port: number; h2Port: number },
  tmp: string,
): NodeJS.ProcessEnv {
  const stubPort = stub.port;
  const env: NodeJS.ProcessEnv = {
    ...sdkChildEnv(e.region),
    TZ: 'UTC',
    OTS_ENV: JSON.stringify(e),
    OTS_STUB_PORT: String(stubPort),
    OTS_STUB_H2_PORT: String(stub.h2Port),
    OTS_TMP: tmp,
  };
  // The plan already carries the account and region (OTS_ENV); passed on as well, so that any
  // module of the child that reads plan.ts sees the same values.
  for (const name of ['OTS_ACCOUNT', 'OTS_REGION'])
    if (process.env[name] !== undefined) env[name] = process.env[name];
  if (e.kind === 'lambda') {
    // What the Lambda runtime sets for a Node.js 20 function.
    Object.assign(env, {
      AWS_DEFAULT_REGION: e.region,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      AWS_LAMBDA_FUNCTION_NAME: e.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: e.functionVersion,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(e.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${e.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: e.logStreamName,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT,
      _HANDLER: 'index.handler',
      OTEL_SERVICE_NAME: e.functionName,
    });
  } else {
    // What ECS sets in a Fargate task's containers; the metadata endpoint is the stub.
    Object.assign(env, {
      AWS_DEFAULT_REGION: e.region,
      AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE',
      ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${stubPort}/v4/${e.dockerId}`,
      ECS_CONTAINER_METADATA_URI: `http://127.0.0.1:${stubPort}/v3/${e.dockerId}`,
      OTEL_SERVICE_NAME: e.serviceName,
    });
  }
  return env;
}

export function runChild(args: string[], env: NodeJS.ProcessEnv, label: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`workload ${label} exited with ${code}`)),
    );
  });
}

export interface Capture {
  captures: RawCapture[];
  stubLog: StubLogEntry[];
}

/** How many times an environment is run before a resource problem ({@link resourceProblem}) is fatal. */
export const ATTEMPTS = 3;

/**
 * Why a captured resource is not the one the platform's detector gives, or null. The ECS detector
 * reads the task metadata endpoint with a 1 s socket timeout: when the child's main thread is
 * blocked longer than that at start-up (tsx's loader thread booting on a cold cache or a busy
 * machine, and under ADOT loading ADOT a second time), it times out and the resource has no
 * aws.ecs.*, cloud.* attribute at all: the task would pass for an unknown service. The run is then
 * repeated (the stub rewound, so that request ids stay deterministic).
 */
export function resourceProblem(e: Environment, attributes: Record<string, unknown>): string | null {
  if (e.kind !== 'ecs') return null;
  const missing = [
    'cloud.platform',
    'cloud.account.id',
    'cloud.region',
    'aws.ecs.task.arn',
    'aws.ecs.cluster.arn',
  ].filter((k) => attributes[k] === undefined);
  return missing.length ? `the ECS resource lacks ${missing.join(', ')}` : null;
}

export async function captureAll(envs: Environment[]): Promise<Capture> {
  const stub = await startStub(stubConfig(envs));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-samples-'));
  const captures: RawCapture[] = [];
  try {
    for (const e of envs) {
      const out = path.join(tmp, `capture-${captures.length}.json`);
      const env = { ...platformEnv(e, stub, tmp), OTS_MODE: 'otel', OTS_OUT: out };
      for (let attempt = 1; ; attempt++) {
        const mark = stub.checkpoint();
        await runChild(['--import', 'tsx', path.join(here, 'workload.ts')], env, e.env);
        const capture = JSON.parse(fs.readFileSync(out, 'utf8')) as RawCapture;
        const problem = resourceProblem(e, capture.resource.attributes);
        if (!problem) {
          captures.push(capture);
          break;
        }
        if (attempt === ATTEMPTS) throw new Error(`${e.env}: ${problem} (${attempt} attempts)`);
        console.error(`${e.env}: ${problem}; running it again (attempt ${attempt + 1} of ${ATTEMPTS})`);
        stub.rewind(mark);
      }
    }
  } finally {
    await stub.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { captures, stubLog: stub.log };
}
