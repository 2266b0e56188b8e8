import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { FIVE_MINUTES, deadLetterDepth, trainingStepP95, type WatchedResources } from './watched-resources';

export interface OperationsDashboardProps {
  dashboardName: string;
  watched: WatchedResources;
  /** Shown in the status row on top. */
  alarms: cloudwatch.IAlarm[];
}

/** The operations dashboard (last 24 hours): alarm status, API, training, all Lambdas and DLQs, batch runs. */
export class OperationsDashboard extends cloudwatch.Dashboard {
  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id, { dashboardName: props.dashboardName, defaultInterval: Duration.hours(24) });
    const { watched } = props;
    this.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24, height: 4 }));
    this.addWidgets(...apiRow(watched.api));
    this.addWidgets(...trainingRow(watched.training));
    this.addWidgets(...lambdasAndQueuesRow(watched));
    this.addWidgets(...batchRow(watched.batchRuns));
  }
}

function apiRow(api: WatchedResources['api']): cloudwatch.IWidget[] {
  return [
    new cloudwatch.GraphWidget({
      title: 'API requests and errors',
      left: [api.metricCount({ period: FIVE_MINUTES })],
      right: [api.metricClientError({ period: FIVE_MINUTES }), api.metricServerError({ period: FIVE_MINUTES })],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'API latency (p50, p95)',
      left: [
        api.metricLatency({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(50) }),
        api.metricLatency({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(95) }),
      ],
      width: 12,
    }),
  ];
}

function trainingRow(training: lambda.IFunction): cloudwatch.IWidget[] {
  return [
    new cloudwatch.GraphWidget({
      title: 'Training step duration (p50, p95, max)',
      left: [
        training.metricDuration({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(50) }),
        trainingStepP95(training),
        training.metricDuration({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
      ],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Training invocations and concurrency',
      left: [training.metricInvocations({ period: FIVE_MINUTES })],
      right: [training.metric('ConcurrentExecutions', { period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM })],
      width: 12,
    }),
  ];
}

function lambdasAndQueuesRow(watched: WatchedResources): cloudwatch.IWidget[] {
  const eachFunction = (metric: (fn: lambda.IFunction) => cloudwatch.IMetric): cloudwatch.IMetric[] => watched.functions.map(([, fn]) => metric(fn));
  return [
    new cloudwatch.GraphWidget({ title: 'Lambda errors', left: eachFunction((fn) => fn.metricErrors({ period: FIVE_MINUTES })), width: 8 }),
    new cloudwatch.GraphWidget({ title: 'Lambda throttles', left: eachFunction((fn) => fn.metricThrottles({ period: FIVE_MINUTES })), width: 8 }),
    new cloudwatch.GraphWidget({
      title: 'Dead-letter queues (messages visible)',
      left: watched.deadLetterQueues.map(([, dlq]) => deadLetterDepth(dlq)),
      width: 8,
    }),
  ];
}

function batchRow(runs: WatchedResources['batchRuns']): cloudwatch.IWidget[] {
  const hourly = { period: Duration.hours(1) };
  return [
    new cloudwatch.GraphWidget({
      title: 'Batch grading runs',
      left: [runs.metricStarted(hourly), runs.metricSucceeded(hourly), runs.metricFailed(hourly)],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Batch run time',
      left: [runs.metricTime({ ...hourly, statistic: cloudwatch.Stats.MAXIMUM })],
      width: 12,
    }),
  ];
}
