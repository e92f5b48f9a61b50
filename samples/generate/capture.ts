/**
 * Runs each workload in a child process against the stub and a fake X-Ray daemon, and returns
 * every segment document the X-Ray SDK emitted, as parsed from its UDP packets.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { sdkChildEnv } from './common/sdk-calls.js';
import { startStub, type StubLogEntry } from './common/stub.js';
import { STUB, type EcsWorkload, type LambdaWorkload } from './plan.js';

export type RawDoc = Record<string, unknown> & { id: string; trace_id: string; name: string };

export interface Capture {
  /** Documents in arrival order. */
  docs: RawDoc[];
  stubLog: StubLogEntry[];
}

const HEADER = '{"format":"json","version":1}\n';
const here = path.dirname(fileURLToPath(import.meta.url));

export async function captureAll(workloads: (LambdaWorkload | EcsWorkload)[]): Promise<Capture> {
  const stub = await startStub(STUB);
  const socket = dgram.createSocket('udp4');
  const docs: RawDoc[] = [];
  socket.on('message', (msg) => {
    const text = msg.toString('utf8');
    if (!text.startsWith(HEADER)) throw new Error(`unexpected daemon packet header: ${text.slice(0, 60)}`);
    docs.push(JSON.parse(text.slice(HEADER.length)) as RawDoc);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const daemonPort = (socket.address() as AddressInfo).port;

  try {
    for (const w of workloads) {
      const env: NodeJS.ProcessEnv = {
        ...sdkChildEnv(w.region),
        XLP_WORKLOAD: JSON.stringify(w),
        XLP_STUB_PORT: String(stub.port),
        XLP_DAEMON_PORT: String(daemonPort),
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemonPort}`,
      };
      if (w.kind === 'lambda') {
        Object.assign(env, {
          LAMBDA_TASK_ROOT: '/var/task',
          AWS_LAMBDA_FUNCTION_NAME: w.name,
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
        });
      }
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'workloads.ts')], {
          env,
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`workload ${w.name} exited with ${code}`)),
        );
      });
      // Packets from a finished child may still be in flight on the loopback interface.
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    socket.close();
    await stub.close();
  }
  return { docs, stubLog: stub.log };
}
