import { Annotations, Duration, IgnoreMode, Size } from 'aws-cdk-lib';
import { NetworkMode, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type { Construct } from 'constructs';
import type { DeploymentConfig, TrainingConfig } from '../config';
import { CONCURRENCY_QUOTA_NOTE, MEMORY_QUOTA_NOTE, NEW_ACCOUNT_MEMORY_LIMIT_MB } from '../lambda-limits';
import { REPO_ROOT, TRAINING_DOCKERFILE, TRAINING_IMAGE_CONTEXT_EXCLUDES } from '../paths';
import type { DeadLetterQueue } from './dead-letter-queue';
import { commonEnvironment, type FunctionBasics } from './service-function';

/** Training cannot run longer than Lambda allows. */
export const TRAINING_TIMEOUT = Duration.minutes(15);

export interface TrainingFunctionProps {
  description: string;
  /** LOG_LEVEL and the metrics namespace; `config.training` sizes the function and builds the image. */
  config: DeploymentConfig;
  /** Its execution role and log group. */
  basics: FunctionBasics;
  /** Table and bucket variables (the data stack's storage environment). */
  storageEnvironment: Record<string, string>;
  /** Asynchronous steps that failed after the retries. */
  failures: DeadLetterQueue;
}

/**
 * The training Lambda: the container image of functions/training/Dockerfile (x86_64:
 * libtensorflow for tfjs-node is built for x86_64 only), 15 minutes, memory and /tmp as
 * configured; datasets and decoded subsets are cached in /tmp.
 */
export class TrainingFunction extends lambda.DockerImageFunction {
  constructor(scope: Construct, id: string, props: TrainingFunctionProps) {
    const training = props.config.training;
    super(scope, id, {
      description: props.description,
      code: lambda.DockerImageCode.fromImageAsset(REPO_ROOT, imageOptions(training)),
      architecture: lambda.Architecture.X86_64,
      memorySize: training.memoryMb,
      ephemeralStorageSize: Size.mebibytes(training.ephemeralStorageMb),
      timeout: TRAINING_TIMEOUT,
      ...(training.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: training.reservedConcurrency } : {}),
      role: props.basics.role,
      logGroup: props.basics.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        ...commonEnvironment('ml-trainer-training', props.config),
        ...props.storageEnvironment,
        // The Lambda home directory is read-only.
        ML_TRAINER_DATA_DIR: '/tmp/ml-trainer/datasets',
        XDG_CACHE_HOME: '/tmp',
        ...tensorflowThreads(training),
      },
      onFailure: new destinations.SqsDestination(props.failures.queue),
      retryAttempts: training.asyncRetryAttempts,
      maxEventAge: Duration.minutes(training.maxEventAgeMinutes),
    });
    warnOfQuotas(this, training);
  }
}

/**
 * Settings the account's quotas may refuse at deploy time (the synth cannot know them): a
 * warning at synth says which quota, before CloudFormation fails halfway through.
 */
function warnOfQuotas(scope: Construct, training: TrainingConfig): void {
  if (training.memoryMb > NEW_ACCOUNT_MEMORY_LIMIT_MB) {
    Annotations.of(scope).addWarningV2('ml-trainer:memory-quota', `trainingMemoryMb is ${training.memoryMb}. ${MEMORY_QUOTA_NOTE}`);
  }
  if (training.reservedConcurrency !== undefined) {
    Annotations.of(scope).addWarningV2('ml-trainer:concurrency-quota', `trainingReservedConcurrency is ${training.reservedConcurrency}. ${CONCURRENCY_QUOTA_NOTE}`);
  }
}

/**
 * TensorFlow's thread pools, pinned: TensorFlow reads both variables once, when tfjs-node
 * loads. Without them it sizes its pools by the vCPUs, which grow with the memory, and the
 * CNNs split their sums by thread: a step's numerics would change with trainingMemoryMb.
 */
function tensorflowThreads(training: TrainingConfig): Record<string, string> {
  return { TF_NUM_INTRAOP_THREADS: String(training.threads), TF_NUM_INTEROP_THREADS: String(training.threads) };
}

/** The image build: the mirrors, base images and host networking only when configured. */
function imageOptions(training: TrainingConfig): lambda.AssetImageCodeProps {
  const buildArgs = {
    ...training.imageBuildArgs,
    ...(training.tfjsNodeCdnStorage ? { TFJS_NODE_CDN_STORAGE: training.tfjsNodeCdnStorage } : {}),
  };
  return {
    file: TRAINING_DOCKERFILE,
    platform: Platform.LINUX_AMD64,
    exclude: [...TRAINING_IMAGE_CONTEXT_EXCLUDES],
    ignoreMode: IgnoreMode.DOCKER,
    ...(Object.keys(buildArgs).length > 0 ? { buildArgs } : {}),
    ...(training.imageBuildHostNetwork ? { networkMode: NetworkMode.HOST } : {}),
  };
}
