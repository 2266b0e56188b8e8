import { Arn, Aws, type Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from '../nag';
import { allowKeyUse } from './permissions';
import { BatchGradingDefinition, type BatchGradingSteps } from './batch-grading-definition';

export interface BatchGradingStateMachineProps {
  steps: BatchGradingSteps;
  /** The reports bucket: the run's manifest and the map's result files (BATCH_RUNS_PREFIX). */
  runFiles: s3.IBucket;
  /** Child workflows (grade-batch invocations) at once. */
  maxConcurrency: number;
  /** Episodes per child workflow. */
  episodesPerBatch: number;
  /** Failed child workflows tolerated, in percent. */
  toleratedFailurePercentage: number;
  /** A run that takes longer fails (the next run picks up). */
  timeout: Duration;
  /** Receives every execution event, with its data. */
  logGroup: logs.ILogGroup;
}

/**
 * The batch grading state machine (standard, X-Ray, logging at level ALL). The state
 * machine is this construct's `Default` child, so its logical IDs are those of a state
 * machine created directly with this construct's id.
 */
export class BatchGradingStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: BatchGradingStateMachineProps) {
    super(scope, id);
    const { steps, runFiles, maxConcurrency, episodesPerBatch, toleratedFailurePercentage } = props;
    const definition = new BatchGradingDefinition(this, 'Definition', { steps, runFiles, maxConcurrency, episodesPerBatch, toleratedFailurePercentage });
    this.stateMachine = new sfn.StateMachine(this, 'Default', {
      comment: 'ml-trainer-env batch grading: find ended/abandoned episodes into an S3 manifest, grade them in a distributed map, write the report, continue past the cap',
      definitionBody: sfn.DefinitionBody.fromChainable(definition.chain),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.timeout,
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    acknowledge(this.stateMachine, 'AwsSolutions-IAM5', 'stateMachineLogDelivery', 'Resource::*');
    // The map's item reader and result writer (CDK's statements) read and write objects of the bucket; a KMS key must let them.
    if (runFiles.encryptionKey) allowKeyUse(this.stateMachine.role, runFiles.encryptionKey, 'readwrite');
    // Written as CDK's item reader and result writer write it (not bucket.arnForObjects).
    const objects = Arn.format({ partition: Aws.PARTITION, service: 's3', region: '', account: '', resource: runFiles.bucketName, resourceName: '*' });
    acknowledgeWildcardResource(this.stateMachine.role, objects, 'objectWildcard');
    this.acknowledgeMapExecutions();
    // LambdaInvoke grants InvokeFunction on each function and on `<function ARN>:*`.
    for (const fn of Object.values(props.steps)) {
      acknowledgeWildcardResource(this.stateMachine.role, `${fn.functionArn}:*`, 'stateMachineLambdaVersions');
    }
  }

  /** The execution-ARN wildcards of CDK's DistributedMapPolicy (created with the state machine), each by its exact resource. */
  private acknowledgeMapExecutions(): void {
    const policy = this.stateMachine.node.tryFindChild('DistributedMapPolicy');
    if (!(policy instanceof iam.Policy)) throw new Error('CDK no longer creates the DistributedMapPolicy this construct acknowledges: review its statements.');
    for (const statement of policy.document.toJSON().Statement as { Resource: unknown }[]) {
      for (const resource of [statement.Resource].flat()) {
        if (JSON.stringify(resource).includes(':execution:')) acknowledgeWildcardResource(policy, resource as string, 'distributedMapExecutions');
      }
    }
  }
}
