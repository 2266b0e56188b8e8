import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AlarmConfig } from '../config';
import { NotifyingAlarm } from './notifying-alarm';
import { FIVE_MINUTES, deadLetterDepth, deliberate503s, trainingStepP95, type WatchedResources } from './watched-resources';

export interface OperationsAlarmsProps {
  watched: WatchedResources;
  /** Every alarm notifies this topic. */
  topic: sns.ITopic;
  /** Prefix of the alarm names. */
  prefix: string;
  thresholds: Pick<AlarmConfig, 'trainingP95Seconds' | 'apiP95LatencyMs'> & {
    /** The training Lambda's maximum event age: an asynchronous step waiting longer is dropped. */
    trainingMaxEventAgeMinutes: number;
  };
}

/**
 * Throttles alarm only when they last this many consecutive five-minute periods. A burst of
 * throttles is how Lambda queues work: an asynchronous step that is throttled waits in
 * Lambda's queue and is retried (up to its maximum event age), and a synchronous one is
 * answered 503 with Retry-After by the api. Fifteen minutes of them means capacity is short.
 */
export const THROTTLE_SUSTAINED_PERIODS = 3;

/**
 * The event-age alarm fires when the oldest waiting asynchronous step has waited this share
 * of the maximum event age: early enough to act before Lambda drops steps to the DLQ.
 */
export const EVENT_AGE_ALARM_SHARE = 0.5;

/** 5xx answers of API Gateway within five minutes (our deliberate 503s left out) that raise the alarm. */
export const API_5XX_THRESHOLD = 5;

const AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
const ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;

/**
 * The deployment's alarms, each on real trouble: errors of every Lambda (one is enough: a
 * training step that throws or times out is lost work), throttles that persist, asynchronous
 * training steps waiting long, training step latency p95, dead-letter queue depth, API 5xx
 * other than our deliberate 503s, API p95 latency, failed batch runs. Each notifies the topic.
 */
export class OperationsAlarms extends Construct {
  readonly all: cloudwatch.Alarm[] = [];
  private readonly props: OperationsAlarmsProps;

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    this.props = props;
    this.addLambdaAlarms();
    this.addTrainingLatencyAlarm();
    this.addTrainingQueueAlarm();
    this.addDeadLetterAlarms();
    this.addApiAlarms();
    this.addBatchAlarm();
  }

  private alarm(id: string, props: Omit<cloudwatch.AlarmProps, 'alarmName'> & { name: string }): void {
    const { name, ...alarmProps } = props;
    this.all.push(new NotifyingAlarm(this, id, { topic: this.props.topic, alarmName: `${this.props.prefix}-${name}`, ...alarmProps }));
  }

  private addLambdaAlarms(): void {
    for (const [name, fn] of this.props.watched.functions) {
      this.alarm(`${name}Errors`, {
        name: `${name}-errors`,
        alarmDescription: `The ${name} Lambda reported errors (invocations that threw or timed out).`,
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: AT_LEAST,
      });
      this.alarm(`${name}Throttles`, {
        name: `${name}-throttles`,
        alarmDescription:
          `The ${name} Lambda was throttled in each of ${THROTTLE_SUSTAINED_PERIODS} consecutive 5-minute periods ` +
          '(the concurrency limit stays reached: raise the account quota or the reservation).',
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: THROTTLE_SUSTAINED_PERIODS,
        datapointsToAlarm: THROTTLE_SUSTAINED_PERIODS,
        comparisonOperator: AT_LEAST,
      });
    }
  }

  private addTrainingLatencyAlarm(): void {
    const seconds = this.props.thresholds.trainingP95Seconds;
    this.alarm('TrainingStepLatency', {
      name: 'Training-step-latency-p95',
      alarmDescription: `p95 duration of training steps above ${seconds} s (the Lambda stops at 900 s).`,
      metric: trainingStepP95(this.props.watched.training),
      threshold: seconds * 1000,
      evaluationPeriods: 1,
      comparisonOperator: ABOVE,
    });
  }

  /** AsyncEventAge: how long the oldest asynchronous step waited before it ran (Lambda's own queue). */
  private addTrainingQueueAlarm(): void {
    const { trainingMaxEventAgeMinutes } = this.props.thresholds;
    const thresholdMs = Math.round(trainingMaxEventAgeMinutes * 60_000 * EVENT_AGE_ALARM_SHARE);
    this.alarm('TrainingAsyncEventAge', {
      name: 'Training-async-event-age',
      alarmDescription:
        `An asynchronous training step waited over ${thresholdMs / 60_000} min for a free training Lambda; ` +
        `at ${trainingMaxEventAgeMinutes} min Lambda drops it to the TrainingFailures queue.`,
      metric: this.props.watched.training.metric('AsyncEventAge', { period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: thresholdMs,
      evaluationPeriods: 1,
      comparisonOperator: ABOVE,
    });
  }

  private addDeadLetterAlarms(): void {
    for (const [name, dlq] of this.props.watched.deadLetterQueues) {
      this.alarm(`${name}Depth`, {
        name: `${name}-dlq-depth`,
        alarmDescription: `Messages waiting in the ${name} dead-letter queue: ${dlq.purpose}.`,
        metric: deadLetterDepth(dlq),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: AT_LEAST,
      });
    }
  }

  private addApiAlarms(): void {
    const { api } = this.props.watched;
    const latencyMs = this.props.thresholds.apiP95LatencyMs;
    // API Gateway's 5XXError counts every 5xx, our deliberate 503s (capacity, missing data:
    // answers with Retry-After that clients handle) included; those are taken off, so what is
    // left is the api's 500s, Lambda errors and timeouts (502, 504) and gateway faults.
    this.alarm('Api5xx', {
      name: 'Api-5xx',
      alarmDescription: `The REST API answered ${API_5XX_THRESHOLD} or more 5xx errors in 5 minutes, besides its deliberate 503s (training_busy, dataset_unavailable).`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(all5xx, 0) - FILL(deliberate503, 0)',
        usingMetrics: {
          all5xx: api.metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
          deliberate503: deliberate503s(this.props.watched),
        },
        period: FIVE_MINUTES,
        label: '5xx other than deliberate 503s',
      }),
      threshold: API_5XX_THRESHOLD,
      evaluationPeriods: 1,
      comparisonOperator: AT_LEAST,
    });
    this.alarm('ApiLatency', {
      name: 'Api-latency-p95',
      alarmDescription: `p95 REST API latency above ${latencyMs} ms (API Gateway gives up at 29 s).`,
      metric: api.metricLatency({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(95) }),
      threshold: latencyMs,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: ABOVE,
    });
  }

  private addBatchAlarm(): void {
    const runs = this.props.watched.batchRuns;
    this.alarm('BatchFailed', {
      name: 'Batch-failed',
      alarmDescription: 'A batch grading run failed, timed out or was aborted.',
      metric: new cloudwatch.MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: runs.metricFailed({ statistic: cloudwatch.Stats.SUM }),
          timedOut: runs.metricTimedOut({ statistic: cloudwatch.Stats.SUM }),
          aborted: runs.metricAborted({ statistic: cloudwatch.Stats.SUM }),
        },
        period: Duration.hours(1),
        label: 'Failed batch runs',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: AT_LEAST,
    });
  }
}
