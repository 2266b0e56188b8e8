import { Duration, TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { DeadLetterQueue } from './dead-letter-queue';

export interface BatchScheduleProps {
  /** What each scheduled event starts (input `{"trigger": "schedule"}`). */
  stateMachine: sfn.IStateMachine;
  /** EventBridge Scheduler expression: cron(...), rate(...) or at(...). */
  expression: string;
  /** IANA time zone the expression is evaluated in. */
  timeZone: string;
  enabled: boolean;
  /** Events that could not start a run after the retries. */
  failures: DeadLetterQueue;
}

/** The EventBridge Scheduler schedule that starts the batch grading runs (3 retries within an hour). */
export class BatchSchedule extends scheduler.Schedule {
  constructor(scope: Construct, id: string, props: BatchScheduleProps) {
    super(scope, id, {
      description: 'ml-trainer-env: starts the batch grading run',
      schedule: scheduler.ScheduleExpression.expression(props.expression, TimeZone.of(props.timeZone)),
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
        deadLetterQueue: props.failures.queue,
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
      enabled: props.enabled,
      timeWindow: scheduler.TimeWindow.off(),
    });
  }
}
