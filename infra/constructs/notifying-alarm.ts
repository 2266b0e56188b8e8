import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

export interface NotifyingAlarmProps extends cloudwatch.AlarmProps {
  /** Told when the alarm goes off and when it is OK again. */
  topic: sns.ITopic;
}

/** A CloudWatch alarm that notifies `topic` on ALARM and OK; missing data does not breach unless told otherwise. */
export class NotifyingAlarm extends cloudwatch.Alarm {
  constructor(scope: Construct, id: string, { topic, ...props }: NotifyingAlarmProps) {
    super(scope, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...props });
    const notify = new actions.SnsAction(topic);
    this.addAlarmAction(notify);
    this.addOkAction(notify);
  }
}
