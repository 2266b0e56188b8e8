import { CfnOutput, Duration, IgnoreMode, Size, Stack, type StackProps } from 'aws-cdk-lib';
import { NetworkMode, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { allowObjectsRead, allowObjectsReadWrite, allowTableReadWrite } from '../constructs/permissions';
import { FunctionBasics, NodeServiceFunction, commonEnvironment } from '../constructs/service-function';
import { HANDLER_ENTRIES, REPO_ROOT, TRAINING_DOCKERFILE, TRAINING_IMAGE_CONTEXT_EXCLUDES } from '../paths';
import type { DataStack } from './data-stack';

/** Training cannot run longer than Lambda allows. */
export const TRAINING_TIMEOUT = Duration.minutes(15);

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
    const training = new FunctionBasics(this, 'TrainingBasics', { config, description: trainingDescription });
    this.trainingFunction = new lambda.DockerImageFunction(this, 'Training', {
      description: trainingDescription,
      code: lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
        file: TRAINING_DOCKERFILE,
        platform: Platform.LINUX_AMD64,
        exclude: [...TRAINING_IMAGE_CONTEXT_EXCLUDES],
        ignoreMode: IgnoreMode.DOCKER,
        ...(config.training.tfjsNodeCdnStorage ? { buildArgs: { TFJS_NODE_CDN_STORAGE: config.training.tfjsNodeCdnStorage } } : {}),
        ...(config.training.imageBuildHostNetwork ? { networkMode: NetworkMode.HOST } : {}),
      }),
      // libtensorflow for tfjs-node is built for x86_64 only.
      architecture: lambda.Architecture.X86_64,
      memorySize: config.training.memoryMb,
      ephemeralStorageSize: Size.mebibytes(config.training.ephemeralStorageMb),
      timeout: TRAINING_TIMEOUT,
      ...(config.training.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: config.training.reservedConcurrency } : {}),
      role: training.role,
      logGroup: training.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        ...commonEnvironment('ml-trainer-training', config),
        ...storageEnv,
        // The Lambda home directory is read-only: datasets and decoded subsets are cached in /tmp.
        ML_TRAINER_DATA_DIR: '/tmp/ml-trainer/datasets',
        XDG_CACHE_HOME: '/tmp',
      },
      onFailure: new destinations.SqsDestination(this.trainingFailures.queue),
      retryAttempts: config.training.asyncRetryAttempts,
      maxEventAge: Duration.minutes(config.training.maxEventAgeMinutes),
    });
    allowObjectsRead(training.role, data.bucketAccess(data.datasetsBucket));
    allowObjectsReadWrite(training.role, data.bucketAccess(data.checkpointsBucket));
    allowTableReadWrite(training.role, data.tableAccess());

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
