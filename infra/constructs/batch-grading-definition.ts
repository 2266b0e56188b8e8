import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/** The Lambdas of a batch run's steps (event and result shapes: functions/README.md). */
export interface BatchGradingSteps {
  findEpisodes: lambda.IFunction;
  autoSubmit: lambda.IFunction;
  grade: lambda.IFunction;
  writeReport: lambda.IFunction;
}

export interface BatchGradingDefinitionProps {
  steps: BatchGradingSteps;
  /** Episodes graded in parallel (Map state maxConcurrency). */
  maxConcurrency: number;
}

// Step Functions retries Lambda's own transient errors by default; throttling too (the
// training Lambda's reserved concurrency does not apply here, but the account's does).
const THROTTLE_RETRY: sfn.RetryProps = {
  errors: ['Lambda.TooManyRequestsException'],
  interval: Duration.seconds(5),
  backoffRate: 2,
  maxAttempts: 4,
};

/**
 * What one batch run does: find the episodes ended since the last run and the abandoned
 * ones, auto-submit the abandoned ones and grade each in a Map state of bounded concurrency,
 * then write the report. States only: no CloudFormation resource is created here.
 */
export class BatchGradingDefinition extends Construct {
  readonly chain: sfn.IChainable;

  constructor(scope: Construct, id: string, props: BatchGradingDefinitionProps) {
    super(scope, id);
    const gradeEach = new sfn.Map(this, 'GradeEpisodes', {
      itemsPath: '$.found.episodes',
      maxConcurrency: props.maxConcurrency,
      itemSelector: {
        run_id: sfn.JsonPath.stringAt('$$.Execution.Name'),
        episode: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
      },
      resultPath: '$.results',
    });
    gradeEach.itemProcessor(this.perEpisode(props.steps));
    this.chain = this.findEpisodes(props.steps.findEpisodes)
      .next(gradeEach)
      .next(this.writeReport(props.steps.writeReport))
      .next(new sfn.Succeed(this, 'Done'));
  }

  private findEpisodes(fn: lambda.IFunction): tasks.LambdaInvoke {
    return this.invoke('FindEpisodesTask', 'FindEpisodes', fn, '$.found', {
      run_id: sfn.JsonPath.stringAt('$$.Execution.Name'),
      started_at: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      request: sfn.JsonPath.objectAt('$'),
    });
  }

  /** Auto-submit if abandoned, then grade; one episode's failure is reported, not fatal to the run. */
  private perEpisode(steps: BatchGradingSteps): sfn.IChainable {
    const episode = {
      tenant: sfn.JsonPath.stringAt('$.episode.tenant'),
      episode_id: sfn.JsonPath.stringAt('$.episode.episode_id'),
    };
    const submit = this.invoke('AutoSubmitTask', 'AutoSubmit', steps.autoSubmit, '$.submitted', {
      run_id: sfn.JsonPath.stringAt('$.run_id'),
      ...episode,
    });
    const grade = this.invoke('GradeTask', 'Grade', steps.grade, undefined, {
      source: 'batch',
      run_id: sfn.JsonPath.stringAt('$.run_id'),
      ...episode,
    });
    // The error name only: causes can be long.
    const failed = new sfn.Pass(this, 'EpisodeFailed', {
      parameters: { ...episode, status: 'error', error: sfn.JsonPath.stringAt('$.failure.Error') },
    });
    submit.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.failure' });
    grade.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.failure' });
    return new sfn.Choice(this, 'Abandoned?')
      .when(sfn.Condition.booleanEquals('$.episode.abandoned', true), submit.next(grade))
      .otherwise(grade);
  }

  private writeReport(fn: lambda.IFunction): tasks.LambdaInvoke {
    return this.invoke('WriteReportTask', 'WriteReport', fn, '$.report', {
      run_id: sfn.JsonPath.stringAt('$$.Execution.Name'),
      started_at: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      since: sfn.JsonPath.stringAt('$.found.since'),
      until: sfn.JsonPath.stringAt('$.found.until'),
      truncated: sfn.JsonPath.stringAt('$.found.truncated'),
      results: sfn.JsonPath.objectAt('$.results'),
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
