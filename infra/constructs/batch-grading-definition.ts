import { Aws, Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BATCH_RESULTS_PREFIX } from '../../layers/cloud/src';

/** The Lambdas of a batch run's steps (event and result shapes: functions/README.md). */
export interface BatchGradingSteps {
  findEpisodes: lambda.IFunction;
  gradeBatch: lambda.IFunction;
  writeReport: lambda.IFunction;
}

export interface BatchGradingDefinitionProps {
  steps: BatchGradingSteps;
  /** Where find-episodes writes the manifest and the map writes its results (the reports bucket). */
  runFiles: s3.IBucket;
  /** Child workflows (grade-batch invocations) running at once. */
  maxConcurrency: number;
  /** Episodes per child workflow (ItemBatcher's MaxItemsPerBatch). */
  episodesPerBatch: number;
  /** Failed child workflows the run tolerates, in percent, before the map (and the run) fails. */
  toleratedFailurePercentage: number;
}

// Step Functions retries Lambda's own transient errors by default; throttling too (the
// account's concurrency applies to the batch's Lambdas).
const THROTTLE_RETRY: sfn.RetryProps = {
  errors: ['Lambda.TooManyRequestsException'],
  interval: Duration.seconds(5),
  backoffRate: 2,
  maxAttempts: 4,
};

/**
 * What one batch run does: find-episodes claims the run window and writes the manifest of
 * the episodes to grade (S3, JSON lines); a distributed map reads it, batches it and runs one
 * express child workflow per batch (grade-batch: auto-submit if abandoned, grade, label,
 * price) with bounded concurrency, writing its results to S3; write-report streams those into
 * the report, and a run that stopped at its safety cap starts its own continuation. Every
 * state's payload is a location or a few counts, whatever the number of episodes.
 * States only: no CloudFormation resource is created here.
 */
export class BatchGradingDefinition extends Construct {
  readonly chain: sfn.IChainable;

  constructor(scope: Construct, id: string, props: BatchGradingDefinitionProps) {
    super(scope, id);
    const report = this.writeReport(props.steps.writeReport);
    const gradeAll = this.gradeEpisodes(props).next(report);
    const nothingToGrade = new sfn.Pass(this, 'NothingToGrade', { result: sfn.Result.fromObject({}), resultPath: '$.graded' }).next(report);
    const anyEpisodes = new sfn.Choice(this, 'AnyEpisodes?').when(sfn.Condition.booleanEquals('$.found.has_episodes', true), gradeAll).otherwise(nothingToGrade);
    const claimed = new sfn.Choice(this, 'WindowClaimed?')
      .when(sfn.Condition.stringEquals('$.found.status', 'busy'), new sfn.Succeed(this, 'AnotherRunIsActive', { comment: 'another run holds the window; it reports' }))
      .otherwise(anyEpisodes);
    report.next(
      new sfn.Choice(this, 'Continue?')
        .when(sfn.Condition.booleanEquals('$.report.continue', true), this.startContinuation().next(new sfn.Succeed(this, 'Continued')))
        .otherwise(new sfn.Succeed(this, 'Done')),
    );
    this.chain = this.findEpisodes(props.steps.findEpisodes).next(claimed);
  }

  private findEpisodes(fn: lambda.IFunction): tasks.LambdaInvoke {
    return this.invoke('FindEpisodesTask', 'FindEpisodes', fn, '$.found', {
      run_id: sfn.JsonPath.stringAt('$$.Execution.Name'),
      started_at: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      request: sfn.JsonPath.objectAt('$'),
    });
  }

  /** The distributed map: manifest lines in, batches of episodes to grade-batch, results to S3. */
  private gradeEpisodes(props: BatchGradingDefinitionProps): sfn.DistributedMap {
    const map = new sfn.DistributedMap(this, 'GradeEpisodes', {
      stateName: 'GradeEpisodes',
      itemReader: new sfn.S3JsonLItemReader({ bucket: props.runFiles, key: sfn.JsonPath.stringAt('$.found.manifest.key') }),
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch: props.episodesPerBatch,
        // CDK passes BatchInput through as written: the `.$` key is the States Language's own.
        batchInput: { 'run_id.$': '$$.Execution.Name' },
      }),
      mapExecutionType: sfn.StateMachineType.EXPRESS,
      maxConcurrency: props.maxConcurrency,
      toleratedFailurePercentage: props.toleratedFailurePercentage,
      resultWriterV2: new sfn.ResultWriterV2({
        bucket: props.runFiles,
        prefix: BATCH_RESULTS_PREFIX,
        writerConfig: new sfn.WriterConfig({ transformation: sfn.Transformation.FLATTEN, outputType: sfn.OutputType.JSONL }),
      }),
      resultPath: '$.graded',
    });
    map.itemProcessor(
      this.invoke('GradeBatchTask', 'GradeBatch', props.steps.gradeBatch, undefined, {
        run_id: sfn.JsonPath.stringAt('$.BatchInput.run_id'),
        episodes: sfn.JsonPath.objectAt('$.Items'),
      }),
    );
    return map;
  }

  private writeReport(fn: lambda.IFunction): tasks.LambdaInvoke {
    return this.invoke('WriteReportTask', 'WriteReport', fn, '$.report', {
      run_id: sfn.JsonPath.stringAt('$$.Execution.Name'),
      started_at: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      found: sfn.JsonPath.objectAt('$.found'),
      graded: sfn.JsonPath.objectAt('$.graded'),
    });
  }

  /**
   * A new execution of this state machine, which takes the rest of the window at once. Its
   * ARN is the context's (a reference to the state machine itself would be circular); the
   * permission is CDK's distributed-map policy (states:StartExecution on this state machine).
   */
  private startContinuation(): sfn.CustomState {
    return new sfn.CustomState(this, 'StartContinuation', {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${Aws.PARTITION}:states:::states:startExecution`,
        Parameters: {
          'StateMachineArn.$': '$$.StateMachine.Id',
          Input: { trigger: 'continuation', 'parent_run_id.$': '$$.Execution.Name' },
        },
        ResultPath: '$.continuation',
      },
    });
  }

  /** A Lambda step that passes `payload`, keeps the function's answer at `resultPath` and retries throttling. */
  private invoke(id: string, stateName: string, fn: lambda.IFunction, resultPath: string | undefined, payload: Record<string, unknown>): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, id, {
      stateName,
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      ...(resultPath ? { resultPath } : {}),
    });
    task.addRetry(THROTTLE_RETRY);
    return task;
  }
}
