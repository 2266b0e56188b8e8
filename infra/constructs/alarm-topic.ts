import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';

export interface AlarmTopicProps {
  displayName: string;
  /** Optional e-mail address subscribed to the topic. */
  email: string | undefined;
}

/** The SNS topic every alarm notifies. Notifications carry metric names and states only; TLS is enforced for publishers. */
export class AlarmTopic extends sns.Topic {
  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id, { displayName: props.displayName, enforceSSL: true });
    if (props.email) this.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
