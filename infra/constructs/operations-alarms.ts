import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AlarmConfig } from '../config';
import { NotifyingAlarm } from './notifying-alarm';
import { FIVE_MINUTES, deadLetterDepth, trainingStepP95, type WatchedResources } from './watched-resources';

export interface OperationsAlarmsProps {
  watched: WatchedResources;
  /** Every alarm notifies this topic. */
  topic: sns.ITopic;
  /** Prefix of the alarm names. */
  prefix: string;
  thresholds: Pick<AlarmConfig, 'trainingP95Seconds' | 'apiP95LatencyMs'>;
}

const AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
const ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;

/**
 * The deployment's alarms: errors and throttles of every Lambda, training step latency p95,
 * dead-letter queue depth, API 5xx and p95 latency, failed batch runs. Each notifies the topic.
 */
export class OperationsAlarms extends Construct {
  readonly all: cloudwatch.Alarm[] = [];
  private readonly props: OperationsAlarmsProps;

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    this.props = props;
    this.addLambdaAlarms();
    this.addTrainingLatencyAlarm();
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
        alarmDescription: `The ${name} Lambda was throttled (concurrency limit reached).`,
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
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
    this.alarm('Api5xx', {
      name: 'Api-5xx',
      alarmDescription: 'The REST API answered 5xx errors.',
      metric: api.metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      threshold: 5,
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
