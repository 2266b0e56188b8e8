import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { defaultBaselineScores } from '../../layers/cloud/src';
import { CHECKPOINTS_PREFIX, TABLE_LAYOUT } from '../../layers/storage/src';
import type { DeploymentConfig } from '../config';
import { BatchGradingStateMachine } from '../constructs/batch-grading-state-machine';
import { BatchSchedule } from '../constructs/batch-schedule';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { allowObjectsListDelete, allowObjectsWrite, allowTableActions, type TableAction } from '../constructs/permissions';
import { NodeServiceFunction } from '../constructs/service-function';
import { VendedLogGroup } from '../constructs/vended-log-group';
import { HANDLER_ENTRIES } from '../paths';
import type { ComputeStack } from './compute-stack';
import type { DataStack } from './data-stack';

export interface BatchStackProps extends StackProps {
  config: DeploymentConfig;
  data: DataStack;
  compute: ComputeStack;
}

/** The batch run may not take longer than this (then it fails and the next run picks up). */
export const BATCH_TIMEOUT = Duration.hours(6);

/**
 * What each batch function's code calls on the table, and nothing more (functions/batch/*,
 * layers/cloud/src/batch.ts and grading.ts, the stores they use). A call added there
 * needs its action here; the tested-as-deployed suite (test/infra/deployed*) catches one missing.
 */
export const BATCH_TABLE_ACTIONS = {
  // batch state (GetItem); the tenant registry (Query on the table); ended episodes (gsi_ended)
  // and each tenant's idle active ones (gsi_tenant) (Query on the indexes). Reads only.
  findEpisodes: ['dynamodb:GetItem', 'dynamodb:Query'],
  // the episode (GetItem), its conditional commit on the version read (PutItem), the
  // auto_submitted_by note (UpdateItem).
  autoSubmit: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  // metering and agent labels of the reported episodes (BatchGetItem); batch state and the sweep's episode reads
  // (GetItem); the run window and the sweep cursor (UpdateItem).
  writeReport: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
} as const satisfies Record<string, readonly TableAction[]>;

/** The Lambdas of the batch run's own steps (grading is the compute stack's grade Lambda). */
export interface BatchFunctions {
  findEpisodes: lambda.IFunction;
  autoSubmit: lambda.IFunction;
  writeReport: lambda.IFunction;
}

/**
 * Scheduled batch grading: EventBridge Scheduler starts a Step Functions state machine that
 * finds the episodes ended since the last run and the abandoned ones (find-episodes),
 * auto-submits the abandoned ones, grades each through the grade Lambda in a Map state of
 * bounded concurrency, and writes the batch report (JSON + HTML leaderboard) to S3.
 * The event and result shapes of each step are documented in functions/README.md.
 */
export class BatchStack extends Stack {
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: BatchSchedule;
  readonly scheduleFailures: DeadLetterQueue;
  readonly functions: BatchFunctions;

  constructor(scope: Construct, id: string, props: BatchStackProps) {
    super(scope, id, props);
    const { config, compute } = props;
    this.functions = this.createFunctions(config, props.data);

    const logGroup = new VendedLogGroup(this, 'StateMachineLogs', {
      name: `${config.prefix}-batch-grading`,
      retentionDays: config.logRetentionDays,
      retain: config.retainData,
    });
    this.stateMachine = new BatchGradingStateMachine(this, 'BatchGrading', {
      steps: { ...this.functions, grade: compute.gradeFunction },
      maxConcurrency: config.batch.maxConcurrency,
      timeout: BATCH_TIMEOUT,
      logGroup,
    }).stateMachine;

    this.scheduleFailures = new DeadLetterQueue(this, 'ScheduleFailures', { purpose: 'scheduled batch runs that could not be started' });
    this.schedule = new BatchSchedule(this, 'Schedule', {
      stateMachine: this.stateMachine,
      expression: config.batch.schedule,
      timeZone: config.batch.timeZone,
      enabled: config.batch.enabled,
      failures: this.scheduleFailures,
    });

    new CfnOutput(this, 'StateMachineArn', {
      value: this.stateMachine.stateMachineArn,
      description: 'Batch grading; start a run by hand with: aws stepfunctions start-execution --state-machine-arn <arn> --input \'{"trigger":"manual"}\'',
    });
    new CfnOutput(this, 'ScheduleExpression', { value: config.batch.schedule, description: `Batch schedule (${config.batch.timeZone})` });
  }

  private createFunctions(config: DeploymentConfig, data: DataStack): BatchFunctions {
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
    allowTableActions(
      findEpisodes.role,
      data.tableAccess([TABLE_LAYOUT.indexes.ended.name, TABLE_LAYOUT.indexes.byTenant.name]),
      BATCH_TABLE_ACTIONS.findEpisodes,
    );

    const autoSubmit = new NodeServiceFunction(this, 'AutoSubmit', {
      config,
      entry: HANDLER_ENTRIES.autoSubmit,
      description: 'ml-trainer-env batch: submits an abandoned episode on behalf of its agent',
      serviceName: 'ml-trainer-batch',
      memorySize: 512,
      timeout: Duration.minutes(2),
      environment: { ...storageEnv, ABANDON_AFTER_HOURS: abandonAfter },
    });
    allowTableActions(autoSubmit.role, data.tableAccess(), BATCH_TABLE_ACTIONS.autoSubmit);

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
        BASELINE_SCORES: JSON.stringify(defaultBaselineScores()),
        // The leaderboard's cost column prices usage as GET /v1/usage does.
        PRICE_PER_EPISODE_USD: String(config.prices.perEpisodeUsd),
        PRICE_LAMBDA_GB_SECOND_USD: String(config.prices.lambdaGbSecondUsd),
        PRICE_LAMBDA_REQUEST_USD: String(config.prices.lambdaRequestUsd),
      },
    });
    allowTableActions(writeReport.role, data.tableAccess(), BATCH_TABLE_ACTIONS.writeReport);
    // It writes the report and the leaderboard (lib-storage's Upload: PutObject, multipart for large bodies) and reads nothing back.
    allowObjectsWrite(writeReport.role, data.bucketAccess(data.reportsBucket));
    // The orphan-checkpoint sweep (sweepRunCheckpoints): lists the checkpoints and deletes the orphans.
    allowObjectsListDelete(writeReport.role, data.bucketAccess(data.checkpointsBucket), CHECKPOINTS_PREFIX);

    return { findEpisodes: findEpisodes.function, autoSubmit: autoSubmit.function, writeReport: writeReport.function };
  }
}
