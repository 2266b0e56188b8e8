import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/**
 * Every cdk-nag acknowledgment (suppression) of the app goes through here, each with the
 * specific reason it is acceptable. Findings that concern one wildcard are acknowledged by
 * their exact finding id, so any other wildcard that appears later is still reported.
 */
export const NAG_REASONS = {
  xrayWildcard:
    'X-Ray PutTraceSegments/PutTelemetryRecords (added by active tracing) do not support resource-level permissions; AWS documents Resource "*" for them.',
  nodeRuntime:
    'Node.js 22 is the runtime this project standardises on (the training container image is public.ecr.aws/lambda/nodejs:22, and the zip functions must match it); Node.js 22 is an LTS release (end of life 2027-04). Move all functions together when the image moves.',
  objectWildcard:
    'Object-level access needs the object ARN pattern <bucket>/*: keys are per tenant and episode and created at run time. Actions are listed individually (no action wildcard) and scoped to this one bucket.',
  stateMachineLogDelivery:
    'The state machine role needs Resource "*" for two things that do not support resource-level permissions: logging to CloudWatch Logs through the vended-log delivery APIs (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets).',
  stateMachineLambdaVersions:
    'Added by the Step Functions LambdaInvoke task: InvokeFunction on the function and its versions/aliases (<function ARN>:*) of that one function only.',
  distributedMapExecutions:
    "Added by CDK for a distributed map: DescribeExecution, StopExecution and RedriveExecution on this state machine's own executions and their map runs' child executions, whose names are chosen at run time (execution:<state machine name>:*).",
  apiKeyAuth:
    'Callers are machine clients (agents) identified by API keys: every method requires a key, and the key selects the tenant and its usage plan (quota and throttle). No end users exist to sign in through Cognito or IAM; tenants are onboarded by the operator with the commands in the ApiKeyHowTo output.',
  apiWaf:
    'WAF is optional (context wafWebAclArn associates an existing regional web ACL); without it the per-key usage-plan throttle and quota and the stage-wide throttle bound abuse, and a web ACL costs per month even when idle.',
  apiCloudWatchRole:
    'The account-level API Gateway CloudWatch role must carry the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy (API Gateway itself calls logs APIs for any log group of the account and region); it is only created when apiCloudWatchRole is true.',
  dlqWithoutDlq:
    'This queue is itself a dead-letter destination (failed asynchronous invocations / undeliverable scheduler events); giving it a further DLQ would only move the same messages again. Its depth is alarmed on.',
  accessLogBucket:
    'This is the server-access-log destination bucket; logging it into itself would create a log record for every log delivery (an endless loop), and S3 requires SSE-S3 for log targets.',
} as const;

export type NagReason = keyof typeof NAG_REASONS;

/**
 * Acknowledges one cdk-nag finding on a construct and everything below it (cdk-nag 3 reads
 * CDK's `Validations` acknowledgments). `finding` narrows a rule that reports several
 * findings per resource, e.g. acknowledge('AwsSolutions-IAM5', 'xrayWildcard', 'Resource::*')
 * acknowledges `AwsSolutions-IAM5[Resource::*]` only: any other wildcard is still reported.
 */
export function acknowledge(construct: IConstruct, ruleId: string, reason: NagReason, finding?: string): void {
  Validations.of(construct).acknowledge({ id: finding ? `${ruleId}[${finding}]` : ruleId, reason: NAG_REASONS[reason] });
}

/**
 * Acknowledges the IAM5 finding of one wildcard resource on the policies of `principal`
 * (a role), the resource given as it was written into the statement, e.g.
 * `bucket.arnForObjects('*')`. cdk-nag names the finding after the resolved reference, and
 * for a resource of another stack that is the CloudFormation import CDK creates while it
 * prepares the app, after construction. So the acknowledgment is recorded in a validation
 * hook: CDK runs those after the references are resolved and before the policy-validation
 * plugins (cdk-nag). Only this exact resource is acknowledged.
 */
export function acknowledgeWildcardResource(principal: IConstruct, resource: string, reason: NagReason): void {
  principal.node.addValidation({
    validate: () => {
      const flattened = flattenCfnReference(Stack.of(principal).resolve(resource));
      acknowledge(principal, 'AwsSolutions-IAM5', reason, `Resource::${flattened}`);
      return [];
    },
  });
}
