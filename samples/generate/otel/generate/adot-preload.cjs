// Preloaded (--require) before ADOT's register in the ECS run: gives the process what a Fargate
// task would see, exactly as tracing.ts does for the plain OpenTelemetry run: its ENI hostname
// (os.hostname() -> container.name) and a cgroup line naming its container (-> container.id),
// read by ADOT's own copy of the ECS resource detector. Lambda runs do not load this file.
/* global require, process -- CommonJS, run by Node */
/* eslint-disable @typescript-eslint/no-require-imports -- a --require preload is CommonJS */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const env = JSON.parse(process.env.OTS_ENV || '{}');
if (env.kind === 'ecs') {
  const cgroup = path.join(process.env.OTS_TMP, 'cgroup');
  fs.writeFileSync(cgroup, `0::/ecs/${env.taskId}/${env.dockerId}\n`);
  const adotRequire = require('node:module').createRequire(
    require.resolve('@aws/aws-distro-opentelemetry-node-autoinstrumentation/register', {
      paths: [process.env.OTS_ADOT_DIR],
    }),
  );
  const { awsEcsDetector } = adotRequire('@opentelemetry/resource-detector-aws');
  awsEcsDetector.constructor.DEFAULT_CGROUP_PATH = cgroup;
  os.hostname = () => env.hostname;
}
