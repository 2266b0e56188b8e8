import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

export interface DeadLetterQueueProps {
  /** What ends up here, for the console and the alarm description. */
  purpose: string;
}

/**
 * A dead-letter queue: SSE (SQS-managed keys), TLS enforced, 14 days of retention (the
 * maximum, time to inspect and redrive). The observability stack alarms on its depth.
 */
export class DeadLetterQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly purpose: string;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.purpose = props.purpose;
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.queue, 'AwsSolutions-SQS3', 'dlqWithoutDlq');
  }
}
