/**
 * What a Lambda function's configuration exports say, as the run-time rules read it: one shape
 * for the store that keeps it (src/store/configs.ts) and the rules that read it (src/runtime).
 */

/** What a function's configuration export says (`aws lambda get-function-configuration`…). */
export interface FunctionConfig {
  /** `LoggingConfig.LogGroup`: the log group that replaces `/aws/lambda/{name}`. */
  logGroup?: string;
  /** `VpcConfig` with subnets: the function attaches network interfaces. */
  vpc?: boolean;
  /** `TracingConfig.Mode`. */
  tracing?: string;
  /** `DeadLetterConfig.TargetArn`. */
  deadLetter?: string;
  /** Event-source ARNs of its mappings (`list-event-source-mappings`). */
  eventSources?: string[];
  /** The execution role's ARN. */
  role?: string;
  /** `KMSKeyArn`: the customer managed key that encrypts its environment variables. */
  envKey?: string;
  /** `KMSKeyArn` of its event-source mappings: the keys of their filter criteria, with each mapping's source. */
  filterKeys?: FilterKey[];
}

/** The customer managed key of one event-source mapping's filter criteria. */
export interface FilterKey {
  key: string;
  /** The mapping's `EventSourceArn` (none for self-managed Kafka). */
  eventSource?: string;
}
