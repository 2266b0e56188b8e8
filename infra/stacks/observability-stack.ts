import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import type { DeadLetterQueue } from '../constructs/dead-letter-queue';
import type { ApiStack } from './api-stack';
import type { BatchStack } from './batch-stack';
import type { ComputeStack } from './compute-stack';

export interface ObservabilityStackProps extends StackProps {
  config: DeploymentConfig;
  compute: ComputeStack;
  api: ApiStack;
  batch: BatchStack;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms (Lambda errors and throttles, dead-letter queue depth, training step latency p95,
 * API 5xx and latency, failed batch runs) into one SNS topic, and a dashboard. It only reads
 * the other stacks, so it deploys last and nothing depends on it. (The dead-letter queues
 * themselves live next to the functions whose failures they take, in compute and batch:
 * a queue here would make those stacks depend on this one, and this one depends on them.)
 */
export class ObservabilityStack extends Stack {
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config, compute, api, batch } = props;
    const prefix = config.prefix;

    // Alarm notifications carry metric names and states only; TLS is enforced for publishers.
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: `${prefix} alarms`, enforceSSL: true });
    if (config.alarms.email) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarms.email));
    const notify = new actions.SnsAction(this.alarmTopic);

    const alarm = (id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...props });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };

    const functions: [string, lambda.IFunction][] = [
      ['Training', compute.trainingFunction],
      ['Grade', compute.gradeFunction],
      ['Api', api.apiFunction.function],
      ['FindEpisodes', batch.functions.findEpisodes],
      ['AutoSubmit', batch.functions.autoSubmit],
      ['WriteReport', batch.functions.writeReport],
    ];
    for (const [name, fn] of functions) {
      alarm(`${name}Errors`, {
        alarmName: `${prefix}-${name}-errors`,
        alarmDescription: `The ${name} Lambda reported errors (invocations that threw or timed out).`,
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      alarm(`${name}Throttles`, {
        alarmName: `${prefix}-${name}-throttles`,
        alarmDescription: `The ${name} Lambda was throttled (concurrency limit reached).`,
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    const trainingP95 = compute.trainingFunction.metricDuration({ period: Duration.minutes(15), statistic: cloudwatch.Stats.p(95) });
    alarm('TrainingStepLatency', {
      alarmName: `${prefix}-Training-step-latency-p95`,
      alarmDescription: `p95 duration of training steps above ${config.alarms.trainingP95Seconds} s (the Lambda stops at 900 s).`,
      metric: trainingP95,
      threshold: config.alarms.trainingP95Seconds * 1000,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    const queues: [string, DeadLetterQueue][] = [
      ['TrainingFailures', compute.trainingFailures],
      ['GradeFailures', compute.gradeFailures],
      ['ScheduleFailures', batch.scheduleFailures],
    ];
    for (const [name, dlq] of queues) {
      alarm(`${name}Depth`, {
        alarmName: `${prefix}-${name}-dlq-depth`,
        alarmDescription: `Messages waiting in the ${name} dead-letter queue: ${dlq.purpose}.`,
        metric: dlq.queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    alarm('Api5xx', {
      alarmName: `${prefix}-Api-5xx`,
      alarmDescription: 'The REST API answered 5xx errors.',
      metric: api.api.metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    alarm('ApiLatency', {
      alarmName: `${prefix}-Api-latency-p95`,
      alarmDescription: `p95 REST API latency above ${config.alarms.apiP95LatencyMs} ms (API Gateway gives up at 29 s).`,
      metric: api.api.metricLatency({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(95) }),
      threshold: config.alarms.apiP95LatencyMs,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    alarm('BatchFailed', {
      alarmName: `${prefix}-Batch-failed`,
      alarmDescription: 'A batch grading run failed, timed out or was aborted.',
      metric: new cloudwatch.MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: batch.stateMachine.metricFailed({ statistic: cloudwatch.Stats.SUM }),
          timedOut: batch.stateMachine.metricTimedOut({ statistic: cloudwatch.Stats.SUM }),
          aborted: batch.stateMachine.metricAborted({ statistic: cloudwatch.Stats.SUM }),
        },
        period: Duration.hours(1),
        label: 'Failed batch runs',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${prefix}-operations`,
      defaultInterval: Duration.hours(24),
    });
    const fnMetrics = (metric: (fn: lambda.IFunction) => cloudwatch.IMetric): cloudwatch.IMetric[] => functions.map(([, fn]) => metric(fn));
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [api.api.metricCount({ period: FIVE_MINUTES })],
        right: [api.api.metricClientError({ period: FIVE_MINUTES }), api.api.metricServerError({ period: FIVE_MINUTES })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (p50, p95)',
        left: [
          api.api.metricLatency({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(50) }),
          api.api.metricLatency({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(95) }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Training step duration (p50, p95, max)',
        left: [
          compute.trainingFunction.metricDuration({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(50) }),
          trainingP95,
          compute.trainingFunction.metricDuration({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Training invocations and concurrency',
        left: [compute.trainingFunction.metricInvocations({ period: FIVE_MINUTES })],
        right: [
          compute.trainingFunction.metric('ConcurrentExecutions', { period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Lambda errors', left: fnMetrics((fn) => fn.metricErrors({ period: FIVE_MINUTES })), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Lambda throttles', left: fnMetrics((fn) => fn.metricThrottles({ period: FIVE_MINUTES })), width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues (messages visible)',
        left: queues.map(([, dlq]) => dlq.queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM })),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Batch grading runs',
        left: [
          batch.stateMachine.metricStarted({ period: Duration.hours(1) }),
          batch.stateMachine.metricSucceeded({ period: Duration.hours(1) }),
          batch.stateMachine.metricFailed({ period: Duration.hours(1) }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Batch run time',
        left: [batch.stateMachine.metricTime({ period: Duration.hours(1), statistic: cloudwatch.Stats.MAXIMUM })],
        width: 12,
      }),
    );

    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn, description: 'Subscribe to receive the alarms' });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
  }
}
