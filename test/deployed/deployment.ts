import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { STORAGE_ENV } from '../../layers/storage/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { apiGatewayEvent } from '../functions/api-gateway-event';
import { buildImageFunction, deployedFunctions, type DeployedFunction } from './deployed-functions';
import { FunctionProcess, type InvocationOutcome } from './function-process';
import { RecordingEndpoint, type LambdaService, type RecordedCall } from './recording-endpoint';
import { type ExecutionTrace, runExecution } from './state-machine';
import { type QueuedExecution, StateMachineServices } from './state-machine-services';
import { LOCAL_ACCOUNT, LOCAL_REGION, type TemplateModel } from './template-model';

/**
 * The app as deployed, on one machine: the template's table and buckets in dynalite and
 * s3rver, each function's synthesized asset in its own Node process with the template's
 * environment (plus what the Lambda runtime sets, and endpoint overrides that point every
 * SDK client of the function at its own recording endpoint), Lambda invokes answered by a
 * local Invoke API that forwards to those processes, and the state machine run by the
 * interpreter with its role's identity. Everything is derived from the template.
 */
export interface Invocation {
  function: string;
  type: string;
  outcome: InvocationOutcome;
  /** Wall time of the handler's run in its process (a warm invocation's; cold starts are not in it). */
  ms: number;
}

export interface EnvFinding {
  function: string;
  variable: string;
  /** The failed invocation whose error names the variable. */
  error: string;
}

export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  json: any;
}

/**
 * A function's containers: like Lambda, one invocation at a time per process; an invocation
 * that finds every process busy gets a new one (a cold start), so in-process state is never
 * shared between concurrent invocations.
 */
interface Running {
  fn: DeployedFunction;
  processes: FunctionProcess[];
  busy: Set<FunctionProcess>;
  coldStart: () => Promise<FunctionProcess>;
  /** The cold start of this function with other variables of its own (updateEnvironment). */
  withEnv: (own: Record<string, string>) => () => Promise<FunctionProcess>;
  endpoint: RecordingEndpoint;
  /** Variables set in the process: the template's and the runtime's. */
  set: Set<string>;
}

const SANDBOX_TMP = '/tmp';

/** Executions one schedule may start in a chain (its run and the continuations it starts): a bound, not a quota of AWS. */
const MAX_RUNS_PER_SCHEDULE = 50;

/**
 * Variables consumed outside JavaScript, which the runner cannot see being read: the node
 * binary's own (https://nodejs.org/api/cli.html#environment-variables) and TensorFlow's
 * (TF_*, read by libtensorflow with getenv when tfjs-node loads, e.g. the thread pools).
 */
const NODE_RUNTIME_VARIABLES = new Set(['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'NODE_PATH', 'UV_THREADPOOL_SIZE', 'TZ']);
const consumedOutsideJavaScript = (name: string) => NODE_RUNTIME_VARIABLES.has(name) || name.startsWith('TF_');

/** What the Lambda runtime sets besides the function's own variables (credentials: the local servers'). */
function runtimeEnv(fn: DeployedFunction, taskRoot: string, handler: string, home: string): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_SESSION_TOKEN: 'local',
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: handler,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    TMPDIR: path.join(home, 'tmp'),
  };
}

/** Lambda's /tmp is the container's own: the template's /tmp paths are mapped to the process's sandbox. */
function sandboxed(env: Record<string, string>, tmp: string): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === SANDBOX_TMP || v.startsWith(`${SANDBOX_TMP}/`) ? tmp + v.slice(SANDBOX_TMP.length) : v]));
}

function endpointEnv(url: string): Record<string, string> {
  return {
    [STORAGE_ENV.dynamodbEndpoint]: url,
    [STORAGE_ENV.s3Endpoint]: url,
    [STORAGE_ENV.localEndpoint]: 'true',
    // The SDK's own endpoint settings: any other client of the function lands here too (and is recorded).
    AWS_ENDPOINT_URL: url,
    AWS_ENDPOINT_URL_LAMBDA: url,
    AWS_ENDPOINT_URL_DYNAMODB: url,
    AWS_ENDPOINT_URL_S3: url,
  };
}

async function createTables(model: TemplateModel, runtime: LocalRuntime): Promise<void> {
  for (const t of model.resourcesOfType('AWS::DynamoDB::Table')) {
    const p = model.resolve(t.stack, t.resource.Properties ?? {}) as Record<string, any>;
    const index = (i: Record<string, any>) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection });
    const input: CreateTableCommandInput = {
      TableName: model.physicalName(t),
      AttributeDefinitions: p.AttributeDefinitions,
      KeySchema: p.KeySchema,
      BillingMode: p.BillingMode ?? 'PROVISIONED',
      ...(p.ProvisionedThroughput ? { ProvisionedThroughput: p.ProvisionedThroughput } : {}),
      ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map(index) } : {}),
      ...(p.LocalSecondaryIndexes ? { LocalSecondaryIndexes: p.LocalSecondaryIndexes.map(index) } : {}),
    };
    await runtime.clients.dynamodb.send(new CreateTableCommand(input));
  }
  for (const b of model.resourcesOfType('AWS::S3::Bucket')) await runtime.clients.s3.send(new CreateBucketCommand({ Bucket: model.physicalName(b) }));
}

export class Deployment {
  readonly calls: RecordedCall[] = [];
  readonly invocations: Invocation[] = [];
  private readonly running = new Map<string, Running>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly endpoints: RecordingEndpoint[] = [];

  private constructor(
    readonly model: TemplateModel,
    readonly runtime: LocalRuntime,
    private readonly sandbox: string,
  ) {}

  /**
   * Starts the deployment. `editEnv` changes a function's resolved environment before it
   * starts (a test removes a variable); `only` picks the functions to start.
   */
  static async start(model: TemplateModel, options: { only?: (fn: DeployedFunction) => boolean; editEnv?: (fn: DeployedFunction, env: Record<string, string>) => void } = {}): Promise<Deployment> {
    const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'mlt-deployed-'));
    const runtime = await startLocalRuntime({ tableName: 'harness-scratch', checkpointBucket: 'harness-scratch', dataBucket: 'harness-scratch', reportsBucket: 'harness-scratch' });
    const d = new Deployment(model, runtime, sandbox);
    try {
      await createTables(model, runtime);
      await Promise.all(deployedFunctions(model).filter(options.only ?? (() => true)).map((fn) => d.startFunction(fn, options.editEnv)));
    } catch (error) {
      await d.close();
      throw error;
    }
    return d;
  }

  private lambdaService(): LambdaService {
    return {
      functionArn: (nameOrArn) => this.functionNamed(nameOrArn)?.fn.arn ?? (nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${nameOrArn}`),
      invoke: async (nameOrArn, invocationType, payload) => {
        const target = this.functionNamed(nameOrArn);
        const requestId = randomUUID();
        if (!target) {
          return { status: 404, headers: { 'x-amzn-errortype': 'ResourceNotFoundException', 'x-amzn-requestid': requestId }, body: Buffer.from(JSON.stringify({ Type: 'User', message: `Function not found: ${nameOrArn}` })) };
        }
        const event = JSON.parse(payload.toString('utf8') || '{}');
        const run = this.invoke(target.fn.name, event, invocationType);
        if (invocationType === 'Event') {
          return { status: 202, headers: { 'x-amzn-requestid': requestId }, body: Buffer.alloc(0) };
        }
        const outcome = await run;
        const headers: Record<string, string> = { 'x-amzn-requestid': requestId, 'x-amz-executed-version': '$LATEST' };
        if (outcome.ok) return { status: 200, headers, body: Buffer.from(JSON.stringify(outcome.result)) };
        return {
          status: 200,
          headers: { ...headers, 'x-amz-function-error': 'Unhandled' },
          body: Buffer.from(JSON.stringify({ errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: (outcome.stack ?? '').split('\n') })),
        };
      },
    };
  }

  private async startFunction(fn: DeployedFunction, editEnv?: (fn: DeployedFunction, env: Record<string, string>) => void): Promise<void> {
    const endpoint = await RecordingEndpoint.start(fn.name, { dynamodb: this.runtime.endpoints.dynamodb, s3: this.runtime.endpoints.s3, lambda: this.lambdaService() }, (c) => this.calls.push(c));
    this.endpoints.push(endpoint);
    const code = fn.code.kind === 'image' ? await buildImageFunction(fn.code.dir, this.dockerfileOf(fn)) : { bundle: path.join(fn.code.dir, `${fn.handler.split('.')[0]}.js`), handler: fn.handler, cwd: fn.code.dir };
    const home = path.join(this.sandbox, fn.name);
    fs.mkdirSync(path.join(home, 'tmp'), { recursive: true });
    const full = (own: Record<string, string>) => {
      const env = { ...sandboxed(own, path.join(home, 'tmp')) };
      editEnv?.(fn, env);
      return { ...env, ...runtimeEnv(fn, code.cwd, code.handler, home), ...endpointEnv(endpoint.url) };
    };
    const withEnv = (own: Record<string, string>) => () => FunctionProcess.start(fn.name, code.bundle, code.handler, full(own), code.cwd);
    const coldStart = withEnv(fn.env);
    this.running.set(fn.name, { fn, processes: [await coldStart()], busy: new Set(), coldStart, withEnv, endpoint, set: new Set(Object.keys(full(fn.env))) });
  }

  private dockerfileOf(fn: DeployedFunction): string {
    const assets = this.model.stack(fn.ref.stack).assets.dockerImages ?? {};
    const entry = Object.values(assets).find((a) => path.join(this.model.assemblyDir, a.source.directory) === fn.code.dir) as { source: { dockerFile?: string } } | undefined;
    return entry?.source.dockerFile ?? 'Dockerfile';
  }

  private functionNamed(nameOrArn: string): Running | undefined {
    const unqualified = nameOrArn.startsWith('arn:') ? nameOrArn.split(':').slice(0, 7).join(':') : nameOrArn.split(':')[0]!;
    return [...this.running.values()].find((r) => r.fn.name === unqualified || r.fn.arn === unqualified);
  }

  fn(name: string): DeployedFunction {
    const r = this.running.get(name);
    if (!r) throw new Error(`function ${name} is not running (running: ${[...this.running.keys()].join(', ')})`);
    return r.fn;
  }

  /** Invokes a function's process as Lambda does (an Event invocation runs in the background; settle() awaits every one). */
  invoke(name: string, event: unknown, type = 'RequestResponse'): Promise<InvocationOutcome> {
    const r = this.running.get(name)!;
    const run = this.container(r).then(async (container) => {
      try {
        const started = Date.now();
        const outcome = await container.invoke(event, { functionName: r.fn.name, functionArn: r.fn.arn, memoryMb: r.fn.memoryMb, timeoutMs: r.fn.timeoutMs });
        this.invocations.push({ function: name, type, outcome, ms: Date.now() - started });
        return outcome;
      } finally {
        r.busy.delete(container);
      }
    });
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run));
    return run;
  }

  private async container(r: Running): Promise<FunctionProcess> {
    let container = r.processes.find((p) => !r.busy.has(p));
    if (!container) {
      container = await r.coldStart();
      r.processes.push(container);
    }
    r.busy.add(container);
    return container;
  }

  /** Waits until no invocation is running (asynchronous ones, and synchronous ones whose caller stopped waiting; new ones included). */
  async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** The function API Gateway integrates with (the proxy integration's Uri). */
  apiFunction(): string {
    for (const m of this.model.resourcesOfType('AWS::ApiGateway::Method')) {
      const uri = m.resource.Properties?.Integration?.Uri;
      if (uri === undefined) continue;
      const arn = /functions\/(arn:[^/]+)\/invocations/.exec(String(this.model.resolve(m.stack, uri)))?.[1];
      const target = arn ? this.functionNamed(arn) : undefined;
      if (target) return target.fn.name;
    }
    throw new Error('no API Gateway method integrates with a running function');
  }

  /** An API Gateway REST proxy event to the api function, as API Gateway sends it (API key id = tenant). */
  async api(method: string, urlPath: string, options: { body?: unknown; apiKeyId?: string; query?: Record<string, string> } = {}): Promise<ApiAnswer> {
    const outcome = await this.invoke(this.apiFunction(), apiGatewayEvent(method, urlPath, options));
    if (!outcome.ok) throw new Error(`api: ${outcome.errorType}: ${outcome.errorMessage}\n${this.logs(this.apiFunction())}`);
    const raw = outcome.result as { statusCode: number; headers?: Record<string, string>; body?: string };
    let json: unknown;
    try {
      json = raw.body ? JSON.parse(raw.body) : undefined;
    } catch {
      json = raw.body;
    }
    return { status: raw.statusCode, headers: raw.headers ?? {}, json };
  }

  /**
   * Fires a schedule as EventBridge Scheduler would: records its role's states:StartExecution
   * on the target, then runs the target state machine's definition with the schedule's own
   * input, with the state machine's identity: its Lambda tasks invoked and its Distributed
   * Maps' S3 reads and writes made through the real SDK against its own recording endpoint,
   * its StartExecution tasks recorded. The executions those tasks start (continuations of the
   * same state machine) run afterwards, each with its own input and name, until none is left.
   * Returns the first run as before, and every run in order as `runs`.
   */
  async fireSchedule(scheduleName: string, startTime: Date) {
    const schedule = this.model.resourcesOfType('AWS::Scheduler::Schedule').find((s) => this.model.physicalName(s) === scheduleName)!;
    const target = this.model.resolve(schedule.stack, schedule.resource.Properties!.Target) as { Arn: string; Input?: string };
    const machine = this.model.findByPhysical('AWS::StepFunctions::StateMachine', target.Arn);
    if (!machine) throw new Error(`${scheduleName}: its target ${target.Arn} is not a state machine of the templates`);
    this.calls.push({ caller: scheduleName, service: 'states', action: 'states:StartExecution', resource: target.Arn, request: 'Scheduler target' });
    const props = this.model.resolve(machine.stack, machine.resource.Properties!) as { DefinitionString?: string; Definition?: unknown };
    const definition = props.Definition ?? JSON.parse(String(props.DefinitionString));
    const caller = this.model.physicalName(machine);
    const endpoint = await RecordingEndpoint.start(caller, { dynamodb: this.runtime.endpoints.dynamodb, s3: this.runtime.endpoints.s3, lambda: this.lambdaService() }, (c) => this.calls.push(c));
    this.endpoints.push(endpoint);
    const services = new StateMachineServices(caller, endpoint.url, (c) => this.calls.push(c));
    try {
      const runs: (QueuedExecution & { output: any; trace: ExecutionTrace })[] = [];
      for (let next: QueuedExecution | undefined = { stateMachineArn: target.Arn, name: randomUUID(), input: JSON.parse(target.Input ?? '{}'), startTime }; next; next = services.queued.shift()) {
        if (runs.length === MAX_RUNS_PER_SCHEDULE) throw new Error(`${scheduleName}: still starting executions after ${MAX_RUNS_PER_SCHEDULE} runs`);
        if (next.stateMachineArn !== target.Arn) throw new Error(`${caller} started ${next.stateMachineArn}: only continuations of the same state machine are run`);
        const run = await runExecution(definition, next.input, { ...services.options(), name: next.name, startTime: next.startTime, stateMachineArn: next.stateMachineArn });
        runs.push({ ...next, ...run });
      }
      return { output: runs[0]!.output, trace: runs[0]!.trace, definition, runs };
    } finally {
      services.destroy();
    }
  }

  /**
   * Variables a function needs and the template does not give it: read by its code, not set,
   * and named by the error of one of its failed invocations.
   */
  async missingEnv(): Promise<EnvFinding[]> {
    const findings: EnvFinding[] = [];
    for (const [name, r] of this.running) {
      const unset = (await this.envReads(r)).filter((v) => !r.set.has(v));
      for (const failed of this.invocations.filter((i) => i.function === name && !i.outcome.ok)) {
        const message = failed.outcome.ok ? '' : `${failed.outcome.errorType}: ${failed.outcome.errorMessage}`;
        for (const variable of unset.filter((v) => new RegExp(`\\b${v}\\b`).test(message))) {
          if (!findings.some((f) => f.function === name && f.variable === variable)) findings.push({ function: name, variable, error: message });
        }
      }
    }
    return findings;
  }

  /**
   * Variables the template sets that a function's code never read (so far; those consumed
   * outside JavaScript aside): a setting the code ignores, e.g. one renamed on one side only.
   * Only meaningful once the function has run.
   */
  async unreadEnv(): Promise<{ function: string; variable: string }[]> {
    const out: { function: string; variable: string }[] = [];
    for (const [name, r] of this.running) {
      const reads = new Set(await this.envReads(r));
      for (const variable of Object.keys(r.fn.env)) if (!reads.has(variable) && !consumedOutsideJavaScript(variable)) out.push({ function: name, variable });
    }
    return out;
  }

  private async envReads(r: Running): Promise<string[]> {
    return [...new Set((await Promise.all(r.processes.map((p) => p.envReads()))).flat())];
  }

  /**
   * Changes a function's environment as `aws lambda update-function-configuration` would:
   * its running containers are retired (after their invocations end) and the next
   * invocation cold-starts with the new variables. The template's own are kept otherwise.
   */
  async updateEnvironment(name: string, edit: (env: Record<string, string>) => void): Promise<void> {
    const r = this.running.get(name)!;
    await this.settle();
    await Promise.all(r.processes.map((p) => p.stop()));
    r.processes = [];
    r.fn = { ...r.fn, env: { ...r.fn.env } };
    edit(r.fn.env);
    r.coldStart = r.withEnv(r.fn.env);
  }

  /** Each function's peak resident memory over its processes (the largest), where /proc tells it. */
  peakMemoryBytes(): Record<string, number> {
    const peaks: Record<string, number> = {};
    for (const [name, r] of this.running) {
      const bytes = r.processes.map((p) => p.peakRssBytes() ?? 0);
      if (bytes.length > 0) peaks[name] = Math.max(...bytes);
    }
    return peaks;
  }

  /** How many processes (containers) each function has needed so far. */
  containers(): Record<string, number> {
    return Object.fromEntries([...this.running].map(([name, r]) => [name, r.processes.length]));
  }

  failedInvocations(): Invocation[] {
    return this.invocations.filter((i) => !i.outcome.ok);
  }

  functionNames(): string[] {
    return [...this.running.keys()];
  }

  logs(name: string, lines = 40): string {
    return (this.running.get(name)?.processes ?? []).map((p) => p.logs(lines)).join('\n');
  }

  async close(): Promise<void> {
    await this.settle().catch(() => undefined);
    await Promise.all([...this.running.values()].flatMap((r) => r.processes.map((p) => p.stop())));
    await Promise.all(this.endpoints.map((e) => e.close()));
    await this.runtime.close();
    fs.rmSync(this.sandbox, { recursive: true, force: true });
  }
}
