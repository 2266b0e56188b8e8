import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { BATCH_RUNS_PREFIX, defaultBaselineScores } from '../../layers/cloud/src';
import { CHECKPOINTS_PREFIX, TABLE_LAYOUT } from '../../layers/storage/src';
import type { DeploymentConfig } from '../config';
import { BatchGradingStateMachine } from '../constructs/batch-grading-state-machine';
import { BatchSchedule } from '../constructs/batch-schedule';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { allowObjectsListDelete, allowObjectsRead, allowObjectsWrite, allowTableActions, type TableAction } from '../constructs/permissions';
import { NodeServiceFunction } from '../constructs/service-function';
import { VendedLogGroup } from '../constructs/vended-log-group';
import { HANDLER_ENTRIES } from '../paths';
import type { DataStack } from './data-stack';

export interface BatchStackProps extends StackProps {
  config: DeploymentConfig;
  data: DataStack;
}

/** The batch run may not take longer than this (then it fails and the next run picks up). */
export const BATCH_TIMEOUT = Duration.hours(6);

/**
 * What each batch function's code calls on the table, and nothing more (functions/batch/*,
 * layers/cloud/src/batch.ts and grading.ts, the stores they use). A call added there
 * needs its action here; the tested-as-deployed suite (test/infra/deployed*) catches one missing.
 */
export const BATCH_TABLE_ACTIONS = {
  // the run's claim on the window (GetItem of the state, then a conditional UpdateItem); the
  // tenant registry (Query on the table); ended episodes (gsi_ended's shards, Query and Select
  // COUNT) and each tenant's idle active ones (gsi_tenant) (Query on the indexes).
  findEpisodes: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  // each episode (GetItem); an abandoned one's conditional commit on the version read (PutItem);
  // the auto_submitted_by and graded notes (UpdateItem); the batch's metering items (BatchGetItem).
  gradeBatch: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem'],
  // the sweep's episode reads and the sweep cursor (GetItem); the run window and the sweep cursor (UpdateItem).
  writeReport: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
} as const satisfies Record<string, readonly TableAction[]>;

/** The Lambdas of the batch run's steps (the compute stack's grade Lambda grades the API's episodes as they end). */
export interface BatchFunctions {
  findEpisodes: lambda.IFunction;
  gradeBatch: lambda.IFunction;
  writeReport: lambda.IFunction;
}

/**
 * Scheduled batch grading: EventBridge Scheduler starts a Step Functions state machine that
 * writes the episodes ended since the last run and the abandoned ones to an S3 manifest
 * (find-episodes), grades them in batches in a distributed map of express child workflows
 * (grade-batch: auto-submit if abandoned, grade, label, price), streams the map's S3 results
 * into the batch report (JSON + HTML leaderboards, write-report) and continues past its
 * safety cap at once. The event and result shapes of each step are in functions/README.md.
 */
export class BatchStack extends Stack {
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: BatchSchedule;
  readonly scheduleFailures: DeadLetterQueue;
  readonly functions: BatchFunctions;

  constructor(scope: Construct, id: string, props: BatchStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.functions = this.createFunctions(config, props.data);

    const logGroup = new VendedLogGroup(this, 'StateMachineLogs', {
      name: `${config.prefix}-batch-grading`,
      retentionDays: config.logRetentionDays,
      retain: config.retainData,
    });
    this.stateMachine = new BatchGradingStateMachine(this, 'BatchGrading', {
      steps: this.functions,
      runFiles: props.data.reportsBucket,
      maxConcurrency: config.batch.maxConcurrency,
      episodesPerBatch: config.batch.episodesPerBatch,
      toleratedFailurePercentage: config.batch.toleratedFailurePercent,
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
      description: 'ml-trainer-env batch: claims the run window and writes the manifest of the episodes to grade to S3',
      serviceName: 'ml-trainer-batch',
      memorySize: 1024,
      // Streams up to MAX_EPISODES_PER_RUN index rows into the manifest (7.2 s for 20,000 measured locally
      // against dynalite, under load: about 6 minutes for the default 1,000,000).
      timeout: Duration.minutes(15),
      environment: {
        ...storageEnv,
        REPORTS_BUCKET: data.reportsBucket.bucketName,
        ABANDON_AFTER_HOURS: abandonAfter,
        MAX_EPISODES_PER_RUN: String(config.batch.maxEpisodesPerRun),
        RUN_TIMEOUT_SECONDS: String(BATCH_TIMEOUT.toSeconds()),
      },
    });
    allowTableActions(
      findEpisodes.role,
      data.tableAccess([TABLE_LAYOUT.indexes.ended.name, TABLE_LAYOUT.indexes.byTenant.name]),
      BATCH_TABLE_ACTIONS.findEpisodes,
    );
    // The manifest (lib-storage's Upload: PutObject, multipart for large bodies).
    allowObjectsWrite(findEpisodes.role, data.bucketAccess(data.reportsBucket), BATCH_RUNS_PREFIX);

    const gradeBatch = new NodeServiceFunction(this, 'GradeBatch', {
      config,
      entry: HANDLER_ENTRIES.gradeBatch,
      description: 'ml-trainer-env batch: auto-submits (if abandoned) and grades a batch of episodes',
      serviceName: 'ml-trainer-batch',
      memorySize: 512,
      timeout: Duration.minutes(5),
      environment: {
        ...storageEnv,
        ABANDON_AFTER_HOURS: abandonAfter,
        // The report's cost column prices usage as GET /v1/usage does.
        PRICE_PER_EPISODE_USD: String(config.prices.perEpisodeUsd),
        PRICE_LAMBDA_GB_SECOND_USD: String(config.prices.lambdaGbSecondUsd),
        PRICE_LAMBDA_REQUEST_USD: String(config.prices.lambdaRequestUsd),
      },
    });
    allowTableActions(gradeBatch.role, data.tableAccess(), BATCH_TABLE_ACTIONS.gradeBatch);

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
    // It writes the report and the leaderboards (lib-storage's Upload: PutObject, multipart for large bodies)
    // and reads the map's result files.
    allowObjectsWrite(writeReport.role, data.bucketAccess(data.reportsBucket));
    allowObjectsRead(writeReport.role, data.bucketAccess(data.reportsBucket), BATCH_RUNS_PREFIX);
    // The orphan-checkpoint sweep (sweepRunCheckpoints): lists the checkpoints and deletes the orphans.
    allowObjectsListDelete(writeReport.role, data.bucketAccess(data.checkpointsBucket), CHECKPOINTS_PREFIX);

    return { findEpisodes: findEpisodes.function, gradeBatch: gradeBatch.function, writeReport: writeReport.function };
  }
}
