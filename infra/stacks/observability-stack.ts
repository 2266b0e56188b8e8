import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { AlarmTopic } from '../constructs/alarm-topic';
import { OperationsAlarms } from '../constructs/operations-alarms';
import { OperationsDashboard } from '../constructs/operations-dashboard';
import type { WatchedResources } from '../constructs/watched-resources';
import type { ApiStack } from './api-stack';
import type { BatchStack } from './batch-stack';
import type { ComputeStack } from './compute-stack';

export interface ObservabilityStackProps extends StackProps {
  config: DeploymentConfig;
  compute: ComputeStack;
  api: ApiStack;
  batch: BatchStack;
}

/**
 * Alarms (Lambda errors and throttles, dead-letter queue depth, training step latency p95,
 * API 5xx and latency, failed batch runs) into one SNS topic, and a dashboard. It only reads
 * the other stacks, so it deploys last and nothing depends on it. (The dead-letter queues
 * themselves live next to the functions whose failures they take, in compute and batch:
 * a queue here would make those stacks depend on this one, and this one depends on them.)
 */
export class ObservabilityStack extends Stack {
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config } = props;
    const watched = watchedResources(props);

    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', { displayName: `${config.prefix} alarms`, email: config.alarms.email });
    // 'Default' is left out of logical IDs: each alarm keeps the ID it had as a child of the stack.
    this.alarms = new OperationsAlarms(this, 'Default', {
      watched,
      topic: this.alarmTopic,
      prefix: config.prefix,
      thresholds: { ...config.alarms, trainingMaxEventAgeMinutes: config.training.maxEventAgeMinutes },
    }).all;
    this.dashboard = new OperationsDashboard(this, 'Dashboard', { dashboardName: `${config.prefix}-operations`, watched, alarms: this.alarms });

    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn, description: 'Subscribe to receive the alarms' });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
  }
}

function watchedResources({ config, compute, api, batch }: ObservabilityStackProps): WatchedResources {
  return {
    functions: [
      ['Training', compute.trainingFunction],
      ['Grade', compute.gradeFunction],
      ['Api', api.apiFunction.function],
      ['FindEpisodes', batch.functions.findEpisodes],
      ['GradeBatch', batch.functions.gradeBatch],
      ['WriteReport', batch.functions.writeReport],
    ],
    training: compute.trainingFunction,
    deadLetterQueues: [
      ['TrainingFailures', compute.trainingFailures],
      ['GradeFailures', compute.gradeFailures],
      ['ScheduleFailures', batch.scheduleFailures],
    ],
    api: api.api,
    apiMetrics: { namespace: config.metricsNamespace, service: api.apiFunction.serviceName },
    batchRuns: batch.stateMachine,
  };
}
