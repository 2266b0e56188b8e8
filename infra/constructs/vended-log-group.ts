import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface VendedLogGroupProps {
  /** Readable part of the name, e.g. `MlTrainerEnv-batch-grading`. */
  name: string;
  /** A value CloudWatch Logs accepts (infra/config.ts LOG_RETENTION_DAYS). */
  retentionDays: number;
  /** Keep the group when the stack is deleted. */
  retain: boolean;
}

/**
 * A log group for a service that delivers through vended logs (Step Functions): named
 * `/aws/vendedlogs/states/<name>-<stack UUID>`. The vended-logs prefix keeps the CloudWatch
 * Logs resource policy small; the stack's UUID makes the name unique, so a retained group
 * never blocks a redeployment.
 */
export class VendedLogGroup extends logs.LogGroup {
  constructor(scope: Construct, id: string, props: VendedLogGroupProps) {
    super(scope, id, {
      logGroupName: `/aws/vendedlogs/states/${props.name}-${Fn.select(2, Fn.split('/', Stack.of(scope).stackId))}`,
      retention: props.retentionDays as logs.RetentionDays,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
