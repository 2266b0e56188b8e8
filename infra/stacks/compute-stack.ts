import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { allowObjectsRead, allowObjectsReadWrite, allowTableReadWrite } from '../constructs/permissions';
import { FunctionBasics, NodeServiceFunction } from '../constructs/service-function';
import { TrainingFunction } from '../constructs/training-function';
import { HANDLER_ENTRIES } from '../paths';
import type { DataStack } from './data-stack';

export interface ComputeStackProps extends StackProps {
  config: DeploymentConfig;
  data: DataStack;
}

/**
 * The functions that do the environment's work: the training container-image Lambda (runs
 * steps, synchronously for the api Lambda or asynchronously for long steps) and the grade
 * Lambda (grades a stored episode, for the api Lambda and the batch run). Their asynchronous
 * failures land in dead-letter queues (SQS on-failure destinations).
 */
export class ComputeStack extends Stack {
  readonly trainingFunction: lambda.DockerImageFunction;
  readonly gradeFunction: lambda.IFunction;
  readonly trainingFailures: DeadLetterQueue;
  readonly gradeFailures: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: ComputeStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    const storageEnv = data.storageEnvironment(config);

    this.trainingFailures = new DeadLetterQueue(this, 'TrainingFailures', { purpose: 'asynchronous training steps that failed' });
    this.gradeFailures = new DeadLetterQueue(this, 'GradeFailures', { purpose: 'asynchronous grade invocations that failed' });

    const trainingDescription = 'ml-trainer-env training: runs one tool step of an episode (real tfjs-node training)';
    const trainingBasics = new FunctionBasics(this, 'TrainingBasics', { config, description: trainingDescription });
    this.trainingFunction = new TrainingFunction(this, 'Training', {
      description: trainingDescription,
      config,
      basics: trainingBasics,
      storageEnvironment: storageEnv,
      failures: this.trainingFailures,
    });
    allowObjectsRead(trainingBasics.role, data.bucketAccess(data.datasetsBucket));
    allowObjectsReadWrite(trainingBasics.role, data.bucketAccess(data.checkpointsBucket));
    allowTableReadWrite(trainingBasics.role, data.tableAccess());

    const grade = new NodeServiceFunction(this, 'Grade', {
      config,
      entry: HANDLER_ENTRIES.grade,
      description: 'ml-trainer-env grade: grades a stored episode and records the grade (idempotent)',
      serviceName: 'ml-trainer-grade',
      memorySize: 512,
      timeout: Duration.minutes(1),
      environment: storageEnv,
      onFailure: new destinations.SqsDestination(this.gradeFailures.queue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    allowTableReadWrite(grade.role, data.tableAccess());
    this.gradeFunction = grade.function;

    new CfnOutput(this, 'TrainingFunctionName', { value: this.trainingFunction.functionName });
    new CfnOutput(this, 'GradeFunctionName', { value: this.gradeFunction.functionName });
    new CfnOutput(this, 'TrainingFailuresQueueUrl', { value: this.trainingFailures.queue.queueUrl, description: 'Failed asynchronous training steps' });
    new CfnOutput(this, 'GradeFailuresQueueUrl', { value: this.gradeFailures.queue.queueUrl, description: 'Failed asynchronous grade invocations' });
  }
}
