import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, TimeZone, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { DEFAULT_BASELINE_SCORES } from '../../layers/cloud/src/config';
import type { DeploymentConfig } from '../config';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { allowObjectsReadWrite, allowTableReadWrite } from '../constructs/permissions';
import { NodeServiceFunction } from '../constructs/service-function';
import { acknowledge, acknowledgeWildcardResource } from '../nag';
import { HANDLER_ENTRIES } from '../paths';
import type { ComputeStack } from './compute-stack';
import { TABLE_SCHEMA, type DataStack } from './data-stack';

export interface BatchStackProps extends StackProps {
  config: DeploymentConfig;
  data: DataStack;
  compute: ComputeStack;
}

/** The batch run may not take longer than this (then it fails and the next run picks up). */
export const BATCH_TIMEOUT = Duration.hours(6);

/**
 * Scheduled batch grading: EventBridge Scheduler starts a Step Functions state machine that
 * finds the episodes ended since the last run and the abandoned ones (find-episodes),
 * auto-submits the abandoned ones, grades each through the grade Lambda in a Map state of
 * bounded concurrency, and writes the batch report (JSON + HTML leaderboard) to S3.
 * The event and result shapes of each step are documented in functions/README.md.
 */
export class BatchStack extends Stack {
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: scheduler.Schedule;
  readonly scheduleFailures: DeadLetterQueue;
  readonly functions: { findEpisodes: lambda.IFunction; autoSubmit: lambda.IFunction; writeReport: lambda.IFunction };

  constructor(scope: Construct, id: string, props: BatchStackProps) {
    super(scope, id, props);
    const { config, data, compute } = props;
    const storageEnv = data.storageEnvironment(config);
    const abandonAfter = String(config.batch.abandonAfterHours);

    const findEpisodes = new NodeServiceFunction(this, 'FindEpisodes', {
      config,
      entry: HANDLER_ENTRIES.findEpisodes,
      description: 'ml-trainer-env batch: lists the episodes ended since the last run and the abandoned ones',
      serviceName: 'ml-trainer-batch',
      memorySize: 512,
      timeout: Duration.minutes(5),
      environment: { ...storageEnv, ABANDON_AFTER_HOURS: abandonAfter, MAX_EPISODES_PER_RUN: String(config.batch.maxEpisodesPerRun) },
    });
    allowTableReadWrite(findEpisodes.role, data.tableAccess([TABLE_SCHEMA.gsiEnded.name, TABLE_SCHEMA.gsiTenant.name]));

    const autoSubmit = new NodeServiceFunction(this, 'AutoSubmit', {
      config,
      entry: HANDLER_ENTRIES.autoSubmit,
      description: 'ml-trainer-env batch: submits an abandoned episode on behalf of its agent',
      serviceName: 'ml-trainer-batch',
      memorySize: 512,
      timeout: Duration.minutes(2),
      environment: { ...storageEnv, ABANDON_AFTER_HOURS: abandonAfter },
    });
    allowTableReadWrite(autoSubmit.role, data.tableAccess());

    const writeReport = new NodeServiceFunction(this, 'WriteReport', {
      config,
      entry: HANDLER_ENTRIES.writeReport,
      description: 'ml-trainer-env batch: writes the batch report (JSON) and the HTML leaderboard to S3',
      serviceName: 'ml-trainer-batch',
      memorySize: 1024,
      timeout: Duration.minutes(5),
      environment: {
        ...storageEnv,
        REPORTS_BUCKET: data.reportsBucket.bucketName,
        REPORTS_PREFIX: 'reports/',
        // The baseline agent's scores drawn on the leaderboard (functions/README.md).
        BASELINE_SCORES: JSON.stringify(DEFAULT_BASELINE_SCORES),
        // The leaderboard's cost column prices usage as GET /v1/usage does.
        PRICE_PER_EPISODE_USD: String(config.prices.perEpisodeUsd),
        PRICE_LAMBDA_GB_SECOND_USD: String(config.prices.lambdaGbSecondUsd),
        PRICE_LAMBDA_REQUEST_USD: String(config.prices.lambdaRequestUsd),
      },
    });
    allowTableReadWrite(writeReport.role, data.tableAccess([TABLE_SCHEMA.gsiEnded.name]));
    allowObjectsReadWrite(writeReport.role, data.bucketAccess(data.reportsBucket));

    this.functions = { findEpisodes: findEpisodes.function, autoSubmit: autoSubmit.function, writeReport: writeReport.function };

    // Step Functions retries Lambda's own transient errors by default; throttling too (the
    // training Lambda's reserved concurrency does not apply here, but the account's does).
    const throttleRetry: sfn.RetryProps = {
      errors: ['Lambda.TooManyRequestsException'],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 4,
    };

    const find = new tasks.LambdaInvoke(this, 'FindEpisodesTask', {
      stateName: 'FindEpisodes',
      lambdaFunction: findEpisodes.function,
      payload: sfn.TaskInput.fromObject({
        run_id: sfn.JsonPath.stringAt('$$.Execution.Name'),
        started_at: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        request: sfn.JsonPath.objectAt('$'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.found',
    });
    find.addRetry(throttleRetry);

    const submit = new tasks.LambdaInvoke(this, 'AutoSubmitTask', {
      stateName: 'AutoSubmit',
      lambdaFunction: autoSubmit.function,
      payload: sfn.TaskInput.fromObject({
        run_id: sfn.JsonPath.stringAt('$.run_id'),
        tenant: sfn.JsonPath.stringAt('$.episode.tenant'),
        episode_id: sfn.JsonPath.stringAt('$.episode.episode_id'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.submitted',
    });
    submit.addRetry(throttleRetry);

    const grade = new tasks.LambdaInvoke(this, 'GradeTask', {
      stateName: 'Grade',
      lambdaFunction: compute.gradeFunction,
      payload: sfn.TaskInput.fromObject({
        source: 'batch',
        run_id: sfn.JsonPath.stringAt('$.run_id'),
        tenant: sfn.JsonPath.stringAt('$.episode.tenant'),
        episode_id: sfn.JsonPath.stringAt('$.episode.episode_id'),
      }),
      payloadResponseOnly: true,
    });
    grade.addRetry(throttleRetry);

    // One episode's failure is reported, not fatal to the run (the error name only: causes can be long).
    const failed = new sfn.Pass(this, 'EpisodeFailed', {
      parameters: {
        tenant: sfn.JsonPath.stringAt('$.episode.tenant'),
        episode_id: sfn.JsonPath.stringAt('$.episode.episode_id'),
        status: 'error',
        error: sfn.JsonPath.stringAt('$.failure.Error'),
      },
    });
    submit.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.failure' });
    grade.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.failure' });

    const perEpisode = new sfn.Choice(this, 'Abandoned?')
      .when(sfn.Condition.booleanEquals('$.episode.abandoned', true), submit.next(grade))
      .otherwise(grade);

    const gradeEach = new sfn.Map(this, 'GradeEpisodes', {
      itemsPath: '$.found.episodes',
      maxConcurrency: config.batch.maxConcurrency,
      itemSelector: {
        run_id: sfn.JsonPath.stringAt('$$.Execution.Name'),
        episode: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
      },
      resultPath: '$.results',
    });
    gradeEach.itemProcessor(perEpisode);

    const report = new tasks.LambdaInvoke(this, 'WriteReportTask', {
      stateName: 'WriteReport',
      lambdaFunction: writeReport.function,
      payload: sfn.TaskInput.fromObject({
        run_id: sfn.JsonPath.stringAt('$$.Execution.Name'),
        started_at: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        since: sfn.JsonPath.stringAt('$.found.since'),
        until: sfn.JsonPath.stringAt('$.found.until'),
        truncated: sfn.JsonPath.stringAt('$.found.truncated'),
        results: sfn.JsonPath.objectAt('$.results'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.report',
    });
    report.addRetry(throttleRetry);

    const definition = find.next(gradeEach).next(report).next(new sfn.Succeed(this, 'Done'));

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // The vended-logs prefix keeps the CloudWatch Logs resource policy small; the stack's
      // UUID makes the name unique, so a retained group never blocks a redeployment.
      logGroupName: `/aws/vendedlogs/states/${config.prefix}-batch-grading-${Fn.select(2, Fn.split('/', this.stackId))}`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.stateMachine = new sfn.StateMachine(this, 'BatchGrading', {
      comment: 'ml-trainer-env batch grading: find ended/abandoned episodes, auto-submit, grade each, write the report',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: BATCH_TIMEOUT,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    acknowledge(this.stateMachine, 'AwsSolutions-IAM5', 'stateMachineLogDelivery', 'Resource::*');
    // LambdaInvoke grants InvokeFunction on each function and on `<function ARN>:*`.
    for (const fn of [findEpisodes.function, autoSubmit.function, writeReport.function, compute.gradeFunction]) {
      acknowledgeWildcardResource(this.stateMachine.role, `${fn.functionArn}:*`, 'stateMachineLambdaVersions');
    }

    this.scheduleFailures = new DeadLetterQueue(this, 'ScheduleFailures', { purpose: 'scheduled batch runs that could not be started' });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'ml-trainer-env: starts the batch grading run',
      schedule: scheduler.ScheduleExpression.expression(config.batch.schedule, TimeZone.of(config.batch.timeZone)),
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
        deadLetterQueue: this.scheduleFailures.queue,
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
      enabled: config.batch.enabled,
      timeWindow: scheduler.TimeWindow.off(),
    });

    new CfnOutput(this, 'StateMachineArn', {
      value: this.stateMachine.stateMachineArn,
      description: 'Batch grading; start a run by hand with: aws stepfunctions start-execution --state-machine-arn <arn> --input \'{"trigger":"manual"}\'',
    });
    new CfnOutput(this, 'ScheduleExpression', { value: config.batch.schedule, description: `Batch schedule (${config.batch.timeZone})` });
  }
}
