import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { acknowledge } from '../nag';
import { REPO_ROOT, repoPath } from '../paths';

/** The Lambda runtime of every zip function (and the base image of the training function). */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** Powertools and logging settings every function carries. */
export function commonEnvironment(serviceName: string, config: DeploymentConfig): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_METRICS_NAMESPACE: config.metricsNamespace,
    LOG_LEVEL: config.logLevel,
    NODE_OPTIONS: '--enable-source-maps',
  };
}

export interface FunctionBasicsProps {
  config: DeploymentConfig;
  description: string;
}

/**
 * The log group (with retention) and the execution role of one function. The role has no
 * AWS-managed policy: it may write to its own log group only, plus what the stacks grant.
 */
export class FunctionBasics extends Construct {
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: FunctionBasicsProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.config.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role: ${props.description}`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    );
    // Active tracing adds xray:PutTraceSegments/PutTelemetryRecords on "*" to this role.
    acknowledge(this.role, 'AwsSolutions-IAM5', 'xrayWildcard', 'Resource::*');
  }
}

export interface NodeServiceFunctionProps {
  config: DeploymentConfig;
  /** Entry file relative to the repository root (exports `handler`). */
  entry: string;
  description: string;
  /** POWERTOOLS_SERVICE_NAME. */
  serviceName: string;
  memorySize: number;
  timeout: Duration;
  environment?: Record<string, string>;
  /** Asynchronous invocations that fail go here (with retryAttempts retries first). */
  onFailure?: lambda.IDestination;
  retryAttempts?: number;
  maxEventAge?: Duration;
}

/**
 * A zip Lambda bundled by esbuild from the local devDependency (never Docker): Node.js 22,
 * arm64, active X-Ray tracing, its own log group and role, Powertools environment.
 */
export class NodeServiceFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** POWERTOOLS_SERVICE_NAME: the `service` dimension of the function's own metrics. */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: NodeServiceFunctionProps) {
    super(scope, id);
    this.serviceName = props.serviceName;
    const basics = new FunctionBasics(this, 'Basics', { config: props.config, description: props.description });
    this.role = basics.role;
    this.logGroup = basics.logGroup;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: repoPath(props.entry),
      handler: 'handler',
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: basics.role,
      logGroup: basics.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: { ...commonEnvironment(props.serviceName, props.config), ...props.environment },
      projectRoot: REPO_ROOT,
      depsLockFilePath: repoPath('package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        // Bundle everything, the AWS SDK included: the locked versions run, not the runtime's.
        externalModules: [],
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
        minify: true,
        sourceMap: true,
        keepNames: true,
      },
      ...(props.onFailure ? { onFailure: props.onFailure } : {}),
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      ...(props.maxEventAge ? { maxEventAge: props.maxEventAge } : {}),
    });
    acknowledge(this.function, 'AwsSolutions-L1', 'nodeRuntime');
  }
}
