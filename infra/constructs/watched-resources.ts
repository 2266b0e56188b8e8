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
  /** Where the api Lambda's own metrics are (Powertools: its namespace, dimension `service`). */
  apiMetrics: { namespace: string; service: string };
  /** The batch grading state machine. */
  batchRuns: sfn.IStateMachine;
}

export const FIVE_MINUTES = Duration.minutes(5);

/** p95 Duration of the training Lambda over 15 minutes: the step-latency alarm's metric, also drawn on the dashboard. */
export function trainingStepP95(training: lambda.IFunction): cloudwatch.IMetric {
  return training.metricDuration({ period: Duration.minutes(15), statistic: cloudwatch.Stats.p(95) });
}

/**
 * The 503s the api Lambda answered on purpose (`Http503`, functions/api/handler.ts): capacity
 * refusals (training_busy) and missing data (dataset_unavailable, checkpoint_unavailable),
 * each with Retry-After. API Gateway's 5XXError counts them too.
 */
export function deliberate503s(watched: Pick<WatchedResources, 'apiMetrics'>): cloudwatch.IMetric {
  return new cloudwatch.Metric({
    namespace: watched.apiMetrics.namespace,
    metricName: 'Http503',
    dimensionsMap: { service: watched.apiMetrics.service },
    period: FIVE_MINUTES,
    statistic: cloudwatch.Stats.SUM,
  });
}

/** Messages waiting in a dead-letter queue (its depth). */
export function deadLetterDepth(dlq: DeadLetterQueue): cloudwatch.IMetric {
  return dlq.queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM });
}
