import type { Duration } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from '../nag';
import { BatchGradingDefinition, type BatchGradingSteps } from './batch-grading-definition';

export interface BatchGradingStateMachineProps {
  steps: BatchGradingSteps;
  /** Episodes graded in parallel (Map state maxConcurrency). */
  maxConcurrency: number;
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
    const definition = new BatchGradingDefinition(this, 'Definition', { steps: props.steps, maxConcurrency: props.maxConcurrency });
    this.stateMachine = new sfn.StateMachine(this, 'Default', {
      comment: 'ml-trainer-env batch grading: find ended/abandoned episodes, auto-submit, grade each, write the report',
      definitionBody: sfn.DefinitionBody.fromChainable(definition.chain),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.timeout,
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    acknowledge(this.stateMachine, 'AwsSolutions-IAM5', 'stateMachineLogDelivery', 'Resource::*');
    // LambdaInvoke grants InvokeFunction on each function and on `<function ARN>:*`.
    for (const fn of Object.values(props.steps)) {
      acknowledgeWildcardResource(this.stateMachine.role, `${fn.functionArn}:*`, 'stateMachineLambdaVersions');
    }
  }
}
