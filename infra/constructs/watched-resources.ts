import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { DeadLetterQueue } from './dead-letter-queue';

/** What the alarms and the dashboard watch; each name appears in alarm names and descriptions. */
export interface WatchedResources {
  /** Every Lambda of the deployment, by name. */
  functions: readonly (readonly [string, lambda.IFunction])[];
  /** The training Lambda (step latency). */
  training: lambda.IFunction;
  /** Every dead-letter queue, by name. */
  deadLetterQueues: readonly (readonly [string, DeadLetterQueue])[];
  api: apigateway.RestApiBase;
  /** The batch grading state machine. */
  batchRuns: sfn.IStateMachine;
}

export const FIVE_MINUTES = Duration.minutes(5);

/** p95 Duration of the training Lambda over 15 minutes: the step-latency alarm's metric, also drawn on the dashboard. */
export function trainingStepP95(training: lambda.IFunction): cloudwatch.IMetric {
  return training.metricDuration({ period: Duration.minutes(15), statistic: cloudwatch.Stats.p(95) });
}

/** Messages waiting in a dead-letter queue (its depth). */
export function deadLetterDepth(dlq: DeadLetterQueue): cloudwatch.IMetric {
  return dlq.queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM });
}
