import { stepRoutingFromEnv } from '../../layers/cloud/src/config';
import { estimateStep } from '../../layers/cloud/src/step-estimate';
import { BlobStore, createStorageFromEnv, STORAGE_ENV, type Storage } from '../../layers/storage/src';
import { apiGatewayEvent } from '../functions/api-gateway-event';
import { synthesize, type Synthesized } from '../infra/synth';
import { uploadMnist } from './datasets-fixture';
import { Deployment } from './deployment';
import { deniedCalls, describeDenied } from './permission-check';
import { taskStates } from './state-machine';
import { TemplateModel, type StackTemplate } from './template-model';

/**
 * Tested as deployed (issue 13, item 6): the synthesized app, each function run from its
 * synthesized asset in its own process with the template's environment, Lambda invokes
 * through the real SDK, every AWS call checked against the caller's IAM statements in the
 * template. What a function is, may do and is configured with comes from the template only.
 */
const TENANT = 'tenant-deployed';

describe('the synthesized app, run as deployed', () => {
  let synth: Synthesized;
  let model: TemplateModel;
  let d: Deployment;
  let api: string;
  let training: string;
  let grade: string;
  let storage: Storage;

  const step = (episodeId: string, tool: string, args: Record<string, unknown> = {}) =>
    d.api('POST', `/v1/episodes/${episodeId}/steps`, { body: { tool, arguments: args }, apiKeyId: TENANT });

  beforeAll(async () => {
    synth = synthesize({ nag: false }); // cdk-nag has its own tests (test/infra); here only the assembly matters
    model = TemplateModel.fromAssembly(synth.outdir);
    d = await Deployment.start(model);
    api = d.apiFunction();
    // The api's contract (functions/README.md): the functions it invokes are named by its environment.
    training = d.fn(d.fn(api).env.TRAINING_FUNCTION_NAME!).name;
    grade = d.fn(d.fn(api).env.GRADE_FUNCTION_NAME!).name;
    const trainingEnv = d.fn(training).env;
    await uploadMnist({ bucket: trainingEnv[STORAGE_ENV.dataBucket]!, prefix: trainingEnv.DATA_PREFIX, endpoint: d.runtime.endpoints.s3 });
    storage = createStorageFromEnv({ ...d.fn(api).env, AWS_REGION: 'us-east-1', [STORAGE_ENV.localEndpoint]: 'true', [STORAGE_ENV.dynamodbEndpoint]: d.runtime.endpoints.dynamodb, [STORAGE_ENV.s3Endpoint]: d.runtime.endpoints.s3 });
  }, 240_000);

  afterAll(async () => {
    storage?.close();
    await d?.close();
    synth?.cleanup();
  });

  let syncEpisode: string;
  let asyncEpisode: string;

  it('plays a synchronous episode through the api function: real training in the training function, graded by the grade function', async () => {
    const created = await d.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' }, apiKeyId: TENANT });
    expect(created.status).toBe(201);
    syncEpisode = created.json.episode_id;
    expect((await step(syncEpisode, 'configure_training', { batch_size: 64, learning_rate: 0.01 })).status).toBe(200);
    let trained = await step(syncEpisode, 'run_epochs', { num_epochs: 1 });
    if (trained.status === 202) {
      // The api stops waiting before its own timeout; on a machine this loaded the step may outlive it: it still ran synchronously.
      await d.settle();
      trained = await d.api('GET', trained.json.poll, { apiKeyId: TENANT });
    }
    expect({ status: trained.status, body: trained.json }).toMatchObject({ status: 200, body: { data: { epochs_just_trained: 1, current_epoch: 1 } } });
    expect(trained.json.data.val_accuracy).toBeGreaterThan(0.5); // an MLP on 4000 MNIST images, one epoch: real learning
    const submitted = await step(syncEpisode, 'submit_model');
    expect(submitted.json).toMatchObject({ done: true });
    await d.settle();

    const gradings = d.invocations.filter((i) => i.function === grade);
    expect(gradings.map((i) => [i.type, i.outcome])).toEqual([['Event', { ok: true, result: expect.objectContaining({ episode_id: syncEpisode, status: 'graded' }) }]]);
    const trainingCalls = d.invocations.filter((i) => i.function === training);
    expect(trainingCalls.length).toBeGreaterThan(0);
    expect(trainingCalls.every((i) => i.type === 'RequestResponse')).toBe(true);
    const episode = await d.api('GET', `/v1/episodes/${syncEpisode}`, { apiKeyId: TENANT });
    expect(episode.json).toMatchObject({ status: 'submitted', usage: { epochs_trained: 1 } });
    expect((await d.api('GET', '/v1/usage', { apiKeyId: TENANT })).status).toBe(200);
  });

  it('runs a step estimated above the sync budget asynchronously (InvocationType Event), answered by polling', async () => {
    const created = await d.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' }, apiKeyId: TENANT });
    asyncEpisode = created.json.episode_id;
    expect((await step(asyncEpisode, 'configure_training', { batch_size: 64, learning_rate: 0.01 })).status).toBe(200);
    // The sync budget lowered (the api's SYNC_STEP_BUDGET_MS, functions/README.md) to what the api's own
    // estimate gives one epoch of this untrained episode: two epochs then run asynchronously.
    const routing = stepRoutingFromEnv(d.fn(api).env);
    const stored = (await storage.episodes.get(TENANT, asyncEpisode))!;
    const estimate = (n: number) => estimateStep(stored, { tool: 'run_epochs', arguments: { num_epochs: n } }, routing).ms;
    const epochs = 2;
    expect(estimate(epochs)).toBeGreaterThan(estimate(1));
    await d.updateEnvironment(api, (env) => {
      env.SYNC_STEP_BUDGET_MS = String(Math.min(routing.syncBudgetMs, estimate(1)));
    });

    const asyncBefore = d.invocations.length;
    const accepted = await step(asyncEpisode, 'run_epochs', { num_epochs: epochs });
    expect({ status: accepted.status, body: accepted.json }).toMatchObject({ status: 202, body: { status: expect.stringMatching(/pending|running/) } });
    await d.settle();
    expect(d.invocations.slice(asyncBefore).filter((i) => i.function === training).map((i) => [i.type, i.outcome.ok])).toEqual([['Event', true]]);
    const polled = await d.api('GET', accepted.json.poll, { apiKeyId: TENANT });
    expect({ status: polled.status, body: polled.json }).toMatchObject({ status: 200, body: { data: { epochs_just_trained: epochs } } });
  });

  it("runs the state machine's definition from the schedule's own input: manifest, distributed map, report; past its cap, a continuation", async () => {
    const [schedule, ...others] = model.resourcesOfType('AWS::Scheduler::Schedule');
    expect(others).toEqual([]);
    // A run late enough that the active episode counts as abandoned (the template's setting, where a function has it).
    const abandonHours = Math.max(0, ...d.functionNames().map((n) => Number(d.fn(n).env.ABANDON_AFTER_HOURS ?? 0)));
    const startTime = new Date(Date.now() + (abandonHours + 1) * 3_600_000);
    // A cap of one episode per run: the first run takes the ended episode and continues; the continuation takes the abandoned one.
    const find = d.functionNames().find((n) => d.fn(n).env.MAX_EPISODES_PER_RUN !== undefined)!;
    await d.updateEnvironment(find, (env) => {
      env.MAX_EPISODES_PER_RUN = '1';
    });
    const { trace, definition, runs } = await d.fireSchedule(model.physicalName(schedule!), startTime);

    expect(runs.map((r) => r.output.found.counts)).toEqual([
      { ended: 1, abandoned: 0, total: 1, carried_over: 0 },
      { ended: 0, abandoned: 1, total: 1, carried_over: 0 },
    ]);
    expect(runs.map((r) => [r.input, r.output.found.truncated, r.output.report.continue])).toEqual([
      [{ trigger: 'schedule' }, true, true],
      [{ trigger: 'continuation', parent_run_id: runs[0]!.name }, false, false],
    ]);
    expect(runs[1]!.output.found.since).toBe(runs[0]!.output.found.until); // the continuation starts where the first run stopped
    // The batch's run files are in the reports bucket (the api's storage reads the data bucket).
    const reports = new BlobStore(storage.clients.s3, runs[0]!.output.found.manifest.bucket);
    const manifest = async (run: (typeof runs)[number]) =>
      Buffer.from((await reports.get(run.output.found.manifest.key))!)
        .toString('utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
    expect(await manifest(runs[0]!)).toEqual([{ tenant: TENANT, episode_id: syncEpisode, abandoned: false }]);
    expect(await manifest(runs[1]!)).toEqual([{ tenant: TENANT, episode_id: asyncEpisode, abandoned: true }]);
    // Every Task state of the definition ran, over the two runs (the map's child task included).
    const ran = new Set([...trace.states, ...runs.flatMap((r) => r.trace.states)]);
    expect(taskStates(definition).filter((state) => !ran.has(state))).toEqual([]);
    // write-report read the map's result files (the first run graded its episode); the report names them.
    const report = JSON.parse(Buffer.from((await reports.get(runs[0]!.output.report.report_key))!).toString('utf8'));
    expect(report.counts).toMatchObject({ episodes: 1, graded: 1, carried_over: 0 });
    expect(report.leaderboards.easy_mnist).toEqual([expect.objectContaining({ episode_id: syncEpisode, rank: 1 })]);
    expect(report.results).toEqual({ bucket: runs[0]!.output.graded.ResultWriterDetails.Bucket, manifest_key: runs[0]!.output.graded.ResultWriterDetails.Key });
    // The abandoned episode was found idle by the run's time; grade-batch, on the real clock, leaves it active (not_ended), never an error.
    expect(runs[1]!.output.report.counts).toEqual({ episodes: 1, not_ended: 1, carried_over: 0 });
  });

  it('made every AWS call with a permission of the caller\'s role in the template; no function lacked a variable or failed', async () => {
    const denied = deniedCalls(model, d.calls);
    expect(describeDenied(denied)).toBe('');
    expect(await d.missingEnv()).toEqual([]);
    expect(await d.unreadEnv()).toEqual([]);
    expect(d.failedInvocations().map((i) => `${i.function}: ${JSON.stringify(i.outcome)}`)).toEqual([]);
    // Every function of the template ran, and each one's calls were seen (none bypassed its endpoint).
    expect(new Set(d.invocations.map((i) => i.function))).toEqual(new Set(d.functionNames()));
    for (const name of d.functionNames()) expect(d.calls.some((c) => c.caller === name)).toBe(true);
    const invokes = d.calls.filter((c) => c.caller === api && c.action === 'lambda:InvokeFunction').map((c) => c.resource);
    expect(new Set(invokes)).toEqual(new Set([d.fn(training).arn, d.fn(grade).arn]));
  });

  it("reports exactly the missing permission when the api's lambda:InvokeFunction on training is removed from a copy of the template", () => {
    const trainingArn = d.fn(training).arn;
    const role = d.fn(api).role;
    const edited = model.copy((stacks) => removeFromRole(model, stacks, role, (action, resource) => action === 'lambda:InvokeFunction' && resource === trainingArn));
    const denied = deniedCalls(edited, d.calls);
    expect(denied.map(({ caller, action, resource }) => ({ caller, action, resource }))).toEqual([{ caller: api, action: 'lambda:InvokeFunction', resource: trainingArn }]);
    expect(describeDenied(denied)).toBe(`${api}: lambda:InvokeFunction on ${trainingArn} (POST /2015-03-31/functions/${d.fn(training).name}/invocations) is not allowed by its role`);
  });

  it("reports exactly s3:PutObject when it is removed from the training role's statements", () => {
    const role = d.fn(training).role;
    const edited = model.copy((stacks) => removeFromRole(model, stacks, role, (action) => action === 's3:PutObject'));
    const denied = deniedCalls(edited, d.calls);
    expect(denied.length).toBeGreaterThan(0);
    expect(new Set(denied.map((x) => `${x.caller} ${x.action}`))).toEqual(new Set([`${training} s3:PutObject`]));
  });

  it('reports a variable the template no longer sets when the function needs it (TRAINING_FUNCTION_NAME removed from the api)', async () => {
    const apiOnly = await Deployment.start(model, { only: (fn) => fn.name === api, editEnv: (_fn, env) => delete env.TRAINING_FUNCTION_NAME });
    try {
      const answer = await apiOnly.invoke(api, apiGatewayEvent('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' }, apiKeyId: TENANT }));
      expect(answer.ok).toBe(false);
      expect((await apiOnly.missingEnv()).map((f) => [f.function, f.variable])).toEqual([[api, 'TRAINING_FUNCTION_NAME']]);
    } finally {
      await apiOnly.close();
    }
  });
});

/**
 * Removes, in a copy of the templates, every (action, resource) pair the predicate picks from
 * the role's policies (resources resolved with the original model): a statement keeps its
 * other actions and resources.
 */
function removeFromRole(model: TemplateModel, stacks: StackTemplate[], role: { stack: string; logicalId: string }, pick: (action: string, resource: string) => boolean): void {
  const stack = stacks.find((s) => s.stackName === role.stack)!;
  let removed = 0;
  for (const [, resource] of Object.entries(stack.template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    if (!(resource.Properties?.Roles ?? []).some((r: any) => r?.Ref === role.logicalId)) continue;
    const statements: any[] = resource.Properties!.PolicyDocument.Statement;
    const kept: any[] = [];
    for (const s of statements) {
      const actions: string[] = [s.Action].flat();
      const resources: unknown[] = [s.Resource].flat();
      const resolved = resources.map((r) => String(model.resolve(role.stack, r)));
      // Split the statement into one per action, dropping the picked pairs.
      for (const action of actions) {
        const left = resources.filter((_, i) => !pick(action, resolved[i]!));
        removed += resources.length - left.length;
        if (left.length > 0) kept.push({ ...s, Action: action, Resource: left.length === 1 ? left[0] : left });
      }
    }
    resource.Properties!.PolicyDocument.Statement = kept;
  }
  if (removed === 0) throw new Error('the edit removed nothing: the role grants no such permission');
}
