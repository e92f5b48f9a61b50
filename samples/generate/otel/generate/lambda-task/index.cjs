// The Lambda handler module (LAMBDA_TASK_ROOT=generate/lambda-task, _HANDLER=index.handler).
// @opentelemetry/instrumentation-aws-lambda wraps this export when the module is required, exactly
// as it wraps a function's handler in the Lambda runtime. The body delegates to the workload code
// (workload.ts), which registers itself on globalThis before requiring this file.
/* global exports -- CommonJS, run by Node */
'use strict';

exports.handler = async (event, context) => globalThis.otelSamplesHandler(event, context);
