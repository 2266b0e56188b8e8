import { runExecution, type ExecutionOptions, type StatesS3, type TaskInvoker } from './state-machine';

/**
 * The interpreter on its own: a Distributed Map over an S3 JSONL manifest (batching, child
 * executions, failure thresholds, MaxConcurrency, ResultWriter files and manifest) and the
 * StartExecution task. S3, Lambda and StartExecution are in-memory stand-ins for what the
 * harness gives runExecution (deployment.ts gives the real SDK through recording endpoints).
 */
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:batch';
const GRADE = 'arn:aws:lambda:us-east-1:123456789012:function:grade';

class MemoryS3 implements StatesS3 {
  readonly objects = new Map<string, string>();
  async getObject(bucket: string, key: string): Promise<string> {
    const body = this.objects.get(`${bucket}/${key}`);
    if (body === undefined) throw new Error(`NoSuchKey: ${bucket}/${key}`);
    return body;
  }
  async putObject(bucket: string, key: string, body: string): Promise<void> {
    this.objects.set(`${bucket}/${key}`, body);
  }
  json(bucket: string, key: string): any {
    return JSON.parse(this.objects.get(`${bucket}/${key}`)!);
  }
  lines(bucket: string, key: string): any[] {
    return this.objects.get(`${bucket}/${key}`)!.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }
}

const episodes = (n: number) => Array.from({ length: n }, (_, i) => ({ episode_id: `ep-${i}` }));
const jsonl = (items: unknown[]) => items.map((i) => JSON.stringify(i)).join('\n') + '\n';

/** The lead's batch Map, as CDK synthesizes it (JSONPath), with `overrides` merged in. */
function batchDefinition(overrides: Record<string, unknown> = {}, gradeState: Record<string, unknown> = {}) {
  return {
    StartAt: 'GradeEpisodes',
    States: {
      GradeEpisodes: {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSONL' },
          Parameters: { 'Bucket.$': '$.found.manifest.bucket', 'Key.$': '$.found.manifest.key' },
        },
        ItemSelector: { 'episode_id.$': '$$.Map.Item.Value.episode_id', 'index.$': '$$.Map.Item.Index' },
        ItemBatcher: { MaxItemsPerBatch: 3, BatchInput: { 'run_id.$': '$$.Execution.Name' } },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
          StartAt: 'GradeBatch',
          States: {
            GradeBatch: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: GRADE, Payload: { 'run_id.$': '$.BatchInput.run_id', 'episodes.$': '$.Items', 'child.$': '$$.Execution.Name' } },
              OutputPath: '$.Payload',
              End: true,
              ...gradeState,
            },
          },
        },
        MaxConcurrency: 20,
        ToleratedFailurePercentage: 5,
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Bucket: 'reports', Prefix: 'batch-runs/' },
          WriterConfig: { Transformation: 'FLATTEN', OutputType: 'JSONL' },
        },
        ResultPath: '$.graded',
        End: true,
        ...overrides,
      },
    },
  };
}

/** One item per child: the grade function is given the item as a batch of one. */
const unbatched = (overrides: Record<string, unknown> = {}) => batchDefinition({ ItemBatcher: undefined, ...overrides }, { Parameters: { FunctionName: GRADE, Payload: { 'episode.$': '$' } } });

const input = { found: { manifest: { bucket: 'reports', key: 'manifests/run.jsonl' } } };

function options(invoke: TaskInvoker, s3: StatesS3, extra: Partial<ExecutionOptions> = {}): ExecutionOptions {
  return { name: 'run-1', startTime: new Date('2026-01-01T00:00:00Z'), stateMachineArn: MACHINE, invoke, s3, ...extra };
}

/** A grade function that grades every episode of its batch (or its one episode), failing on the ids given. */
function grader(failing: string[] = []) {
  const payloads: any[] = [];
  const invoke: TaskInvoker = async (_arn, payload: any) => {
    payloads.push(payload);
    const batch: any[] = payload.episodes ?? [payload.episode];
    const bad = batch.find((e) => failing.includes(e.episode_id));
    if (bad) throw new Error(`cannot grade ${bad.episode_id}`);
    return batch.map((e) => ({ episode_id: e.episode_id, status: 'graded' }));
  };
  return { invoke, payloads };
}

describe('a Distributed Map over an S3 JSONL manifest', () => {
  it('reads the items, batches them with BatchInput, runs each batch as its own child execution and writes FLATTEN JSONL results and the manifest', async () => {
    const s3 = new MemoryS3();
    s3.objects.set('reports/manifests/run.jsonl', jsonl(episodes(7)));
    const { invoke, payloads } = grader();
    const starts: string[] = [];
    const { output, trace } = await runExecution(batchDefinition(), input, options(invoke, s3, { record: (action, resource) => starts.push(`${action} ${resource}`) }));

    expect(payloads.map((p) => p.episodes.map((e: any) => e.index))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(payloads.every((p) => p.run_id === 'run-1')).toBe(true); // BatchInput templated against the Map's input and context
    expect(payloads[0].episodes[0]).toEqual({ episode_id: 'ep-0', index: 0 });
    expect(new Set(payloads.map((p) => p.child)).size).toBe(3); // each child is an execution of its own
    expect(payloads.map((p) => p.child)).not.toContain('run-1');
    expect(starts).toEqual([`states:StartExecution ${MACHINE}`, `states:StartExecution ${MACHINE}`, `states:StartExecution ${MACHINE}`]);
    expect(trace.states.filter((s) => s === 'GradeEpisodes/GradeBatch')).toHaveLength(3);

    const { MapRunArn, ResultWriterDetails } = output.graded;
    const runId = /^arn:aws:states:us-east-1:123456789012:mapRun:batch\/GradeEpisodes:([0-9a-f-]{36})$/.exec(MapRunArn)?.[1];
    expect(runId).toBeDefined();
    expect(output).toEqual({ ...input, graded: { MapRunArn, ResultWriterDetails: { Bucket: 'reports', Key: `batch-runs/${runId}/manifest.json` } } });
    const succeeded = `batch-runs/${runId}/SUCCEEDED_0.json`;
    expect(s3.json('reports', ResultWriterDetails.Key)).toEqual({
      DestinationBucket: 'reports',
      MapRunArn,
      ResultFiles: { FAILED: [], PENDING: [], SUCCEEDED: [{ Key: succeeded, Size: Buffer.byteLength(s3.objects.get(`reports/${succeeded}`)!) }] },
    });
    // FLATTEN: each child's output array spread into one line per element, in item order.
    expect(s3.lines('reports', succeeded)).toEqual(episodes(7).map((e) => ({ ...e, status: 'graded' })));
  });

  it('tolerates failed items up to ToleratedFailurePercentage and writes a failed child unchanged (its execution record) to FAILED_0.json', async () => {
    const s3 = new MemoryS3();
    s3.objects.set('reports/manifests/run.jsonl', jsonl(episodes(20)));
    const { output } = await runExecution(unbatched(), input, options(grader(['ep-13']).invoke, s3));

    const manifest = s3.json('reports', output.graded.ResultWriterDetails.Key);
    const [failedFile] = manifest.ResultFiles.FAILED;
    expect(failedFile.Key).toMatch(/^batch-runs\/[0-9a-f-]{36}\/FAILED_0\.json$/);
    const [failed, ...more] = s3.lines('reports', failedFile.Key);
    expect(more).toEqual([]);
    expect(failed).toEqual({
      ExecutionArn: expect.stringMatching(/^arn:aws:states:us-east-1:123456789012:express:batch\/GradeEpisodes:[0-9a-f-]{36}:[0-9a-f-]{36}$/),
      Input: JSON.stringify({ episode_id: 'ep-13', index: 13 }),
      InputDetails: { Included: true },
      Name: failed.ExecutionArn.split(':').pop(),
      StartDate: expect.any(String),
      StateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:batch/GradeEpisodes',
      Status: 'FAILED',
      StopDate: expect.any(String),
      Error: 'States.TaskFailed',
      Cause: 'Error: cannot grade ep-13',
    });
    expect(s3.lines('reports', manifest.ResultFiles.SUCCEEDED[0].Key)).toHaveLength(19);
  });

  it('fails with States.ExceedToleratedFailureThreshold past the tolerated percentage (a Catch can take it), and at the first failure when no threshold is given', async () => {
    const s3 = new MemoryS3();
    s3.objects.set('reports/manifests/run.jsonl', jsonl(episodes(20)));
    // 2 of 20 items is 10%, past 5%.
    await expect(runExecution(unbatched(), input, options(grader(['ep-3', 'ep-4']).invoke, s3))).rejects.toMatchObject({ error: 'States.ExceedToleratedFailureThreshold' });
    const caught = unbatched({ Catch: [{ ErrorEquals: ['States.ExceedToleratedFailureThreshold'], ResultPath: '$.failure', Next: 'Done' }], End: undefined, Next: 'Done' });
    (caught.States as any).Done = { Type: 'Succeed' };
    const { output } = await runExecution(caught, input, options(grader(['ep-3', 'ep-4']).invoke, s3));
    expect(output.failure.Error).toBe('States.ExceedToleratedFailureThreshold');
    // With batches a failed child fails all its items: one failed batch of 3 is 15% of 20.
    await expect(runExecution(batchDefinition(), input, options(grader(['ep-0']).invoke, s3))).rejects.toMatchObject({ error: 'States.ExceedToleratedFailureThreshold' });
    // ToleratedFailureCount alone: 3 items tolerated.
    await expect(runExecution(batchDefinition({ ToleratedFailurePercentage: undefined, ToleratedFailureCount: 3 }), input, options(grader(['ep-0']).invoke, s3))).resolves.toBeDefined();
    await expect(runExecution(unbatched({ ToleratedFailurePercentage: undefined }), input, options(grader(['ep-7']).invoke, s3))).rejects.toMatchObject({ error: 'States.ExceedToleratedFailureThreshold' });
  });

  it('retries a child only by its own states\' Retry', async () => {
    const s3 = new MemoryS3();
    s3.objects.set('reports/manifests/run.jsonl', jsonl(episodes(3)));
    let calls = 0;
    const flaky: TaskInvoker = async (_arn, payload: any) => {
      calls += 1;
      if (calls === 1) throw new Error('throttled');
      return payload.episodes;
    };
    const retried = batchDefinition({}, { Retry: [{ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 1 }] });
    await runExecution(retried, input, options(flaky, s3));
    expect(calls).toBe(2);
    calls = 0;
    await expect(runExecution(batchDefinition(), input, options(flaky, s3))).rejects.toMatchObject({ error: 'States.ExceedToleratedFailureThreshold' });
    expect(calls).toBe(1);
  });

  it('runs at most MaxConcurrency children at once', async () => {
    const s3 = new MemoryS3();
    s3.objects.set('reports/manifests/run.jsonl', jsonl(episodes(30)));
    let running = 0;
    let most = 0;
    const invoke: TaskInvoker = async (_arn, payload: any) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running -= 1;
      return payload.episodes;
    };
    await runExecution(batchDefinition({ MaxConcurrency: 4 }), input, options(invoke, s3));
    expect(most).toBe(4);
  });

  it('gives the records themselves as the result without an S3 export (COMPACT, or FLATTEN by WriterConfig), and reads a JSON array with MaxItems', async () => {
    const s3 = new MemoryS3();
    s3.objects.set('reports/manifests/run.json', JSON.stringify(episodes(5)));
    const reader = { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON', MaxItems: 4 }, Parameters: { Bucket: 'reports', Key: 'manifests/run.json' } };
    const compact = await runExecution(batchDefinition({ ItemReader: reader, ResultWriter: undefined }), input, options(grader().invoke, s3));
    expect(compact.output.graded.map((batch: any[]) => batch.length)).toEqual([3, 1]);
    const flat = await runExecution(batchDefinition({ ItemReader: reader, ResultWriter: { WriterConfig: { Transformation: 'FLATTEN', OutputType: 'JSON' } } }), input, options(grader().invoke, s3));
    expect(flat.output.graded.map((r: any) => r.episode_id)).toEqual(['ep-0', 'ep-1', 'ep-2', 'ep-3']);
  });

  it('reports a missing manifest as States.ItemReaderFailed', async () => {
    await expect(runExecution(batchDefinition(), input, options(grader().invoke, new MemoryS3()))).rejects.toMatchObject({ error: 'States.ItemReaderFailed' });
  });
});

describe('what the interpreter refuses', () => {
  const s3 = new MemoryS3();
  s3.objects.set('reports/manifests/run.jsonl', jsonl(episodes(4)));
  const refused = async (definition: unknown) => expect(runExecution(definition, input, options(grader().invoke, s3))).rejects.toThrow(/unsupported/);

  it('rejects reader, batcher, writer and Map fields it does not implement', async () => {
    const reader = batchDefinition().States.GradeEpisodes.ItemReader;
    await refused(batchDefinition({ ItemReader: { ...reader, ReaderConfig: { InputType: 'CSV' } } }));
    await refused(batchDefinition({ ItemReader: { ...reader, ReaderConfig: { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW' } } }));
    await refused(batchDefinition({ ItemReader: { ...reader, Parameters: { ...reader.Parameters, VersionId: 'v1' } } }));
    await refused(batchDefinition({ ItemBatcher: { MaxInputBytesPerBatch: 1024 } }));
    await refused(batchDefinition({ ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'reports' }, WriterConfig: { Transformation: 'GZIP', OutputType: 'JSON' } } }));
    await refused(batchDefinition({ ResultWriter: { WriterConfig: { Transformation: 'NONE', OutputType: 'JSONL' } } }));
    await refused(batchDefinition({ Assign: { x: 1 } }));
    await refused({ ...batchDefinition(), QueryLanguage: 'JSONata' });
    await refused({ StartAt: 'P', States: { P: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% 1 %}', End: true } } });
    await refused(batchDefinition({ Parameters: { 'episode.$': '$$.Map.Item.Value' } }));
    const inline = batchDefinition();
    (inline.States.GradeEpisodes.ItemProcessor as any).ProcessorConfig = { Mode: 'INLINE' };
    await refused(inline); // an inline Map with an ItemReader
  });

  it('does not count an unsupported state in a child as a tolerated failure', async () => {
    const definition = batchDefinition({ ToleratedFailurePercentage: 100 });
    (definition.States.GradeEpisodes.ItemProcessor.States as any).GradeBatch = { Type: 'Wait', Seconds: 1, End: true };
    await refused(definition);
  });

  it('needs the S3 and StartExecution it was not given', async () => {
    await expect(runExecution(batchDefinition(), input, { ...options(grader().invoke, s3), s3: undefined })).rejects.toThrow(/unsupported ItemReader without an S3/);
    const start = { StartAt: 'Next', States: { Next: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution', Parameters: { StateMachineArn: MACHINE }, End: true } } };
    await refused(start);
    const sync = { StartAt: 'Next', States: { Next: { ...start.States.Next, Resource: 'arn:aws:states:::states:startExecution.sync:2' } } };
    await refused(sync);
  });
});

describe('the StartExecution task (a continuation run)', () => {
  it('starts the state machine named by $$.StateMachine.Id with its input and returns ExecutionArn and StartDate', async () => {
    const definition = {
      StartAt: 'Continue',
      States: {
        Continue: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution',
          Parameters: { 'StateMachineArn.$': '$$.StateMachine.Id', Input: { 'cursor.$': '$.cursor', 'parent.$': '$$.Execution.Id', 'machine.$': '$$.StateMachine.Name' } },
          ResultPath: '$.continued',
          End: true,
        },
      },
    };
    const started: unknown[] = [];
    const startTime = new Date('2100-01-01T00:00:00Z'); // later than the wall clock: the fake's `now` must come from the execution
    const { output } = await runExecution(definition, { cursor: 'c-1' }, {
      ...options(grader().invoke, new MemoryS3()),
      startTime,
      startExecution: async (arn, startInput, { now }) => {
        started.push([arn, startInput]);
        return { executionArn: `${arn.replace(':stateMachine:', ':execution:')}:next`, startDate: now };
      },
    });
    expect(started).toEqual([[MACHINE, { cursor: 'c-1', parent: 'arn:aws:states:us-east-1:123456789012:execution:batch:run-1', machine: 'batch' }]]);
    expect(output.continued).toEqual({ ExecutionArn: 'arn:aws:states:us-east-1:123456789012:execution:batch:next', StartDate: expect.any(Number) });
    expect(output.continued.StartDate).toBeGreaterThanOrEqual(startTime.getTime()); // the execution's clock, not the wall clock
  });
});
