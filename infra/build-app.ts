import { App, Tags, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configFromContext, type ContextKey, type DeploymentConfig } from './config';
import { FEATURE_FLAGS } from './feature-flags';
import { ApiStack } from './stacks/api-stack';
import { BatchStack } from './stacks/batch-stack';
import { ComputeStack } from './stacks/compute-stack';
import { DataStack } from './stacks/data-stack';
import { ObservabilityStack } from './stacks/observability-stack';

export interface MlTrainerStacks {
  data: DataStack;
  compute: ComputeStack;
  api: ApiStack;
  batch: BatchStack;
  observability: ObservabilityStack;
}

export interface BuildAppOptions {
  /** Extra context (tests: configuration overrides); cdk.json and -c values still win over the defaults. */
  context?: Partial<Record<ContextKey, unknown>> & Record<string, unknown>;
  /** Where the cloud assembly goes (default: CDK_OUTDIR from the CLI, else a temporary directory). */
  outdir?: string;
  /** Account and region; unset = environment-agnostic stacks. */
  env?: Environment;
  /** Apply the cdk-nag AwsSolutions checks (default true). */
  nag?: boolean;
  /** Environment variables for configuration fallbacks (TFJS_NODE_CDN_STORAGE). */
  processEnv?: NodeJS.ProcessEnv;
}

export interface BuiltApp {
  app: App;
  /** The cdk-nag pack registered on the app (undefined with nag: false); `validateScope(app)` reruns it. */
  nag: AwsSolutionsChecks | undefined;
  config: DeploymentConfig;
  stacks: MlTrainerStacks;
}

/**
 * The whole deployment: five stacks, each a concern of its own, deployed in this order
 * (`cdk deploy --all` follows the dependencies):
 *   data → compute → api → observability, and data → batch → observability
 */
export function createStacks(app: App, config: DeploymentConfig, env?: Environment): MlTrainerStacks {
  const name = (suffix: string): string => `${config.prefix}-${suffix}`;
  const common = env ? { env } : {};
  const data = new DataStack(app, name('Data'), {
    ...common,
    config,
    description: 'ml-trainer-env data: episodes table; datasets, checkpoints and reports buckets',
  });
  const compute = new ComputeStack(app, name('Compute'), {
    ...common,
    config,
    data,
    description: 'ml-trainer-env compute: training (container image) and grade Lambdas',
  });
  const api = new ApiStack(app, name('Api'), {
    ...common,
    config,
    data,
    compute,
    description: 'ml-trainer-env api: REST API with API keys and usage plans, api Lambda',
  });
  const batch = new BatchStack(app, name('Batch'), {
    ...common,
    config,
    data,
    description: 'ml-trainer-env batch: scheduled batch grading (EventBridge Scheduler + Step Functions)',
  });
  const observability = new ObservabilityStack(app, name('Observability'), {
    ...common,
    config,
    compute,
    api,
    batch,
    description: 'ml-trainer-env observability: alarms and dashboard',
  });
  Tags.of(app).add('project', 'ml-trainer-env');
  return { data, compute, api, batch, observability };
}

/** The App with its configuration read from context, the stacks, and the cdk-nag AwsSolutions checks. */
export function buildApp(options: BuildAppOptions = {}): BuiltApp {
  const app = new App({
    context: { ...FEATURE_FLAGS, ...options.context },
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const config = configFromContext((key) => app.node.tryGetContext(key), options.processEnv ?? process.env);
  const stacks = createStacks(app, config, options.env);
  // cdk-nag 3 is a CDK policy-validation plugin (no longer an Aspect): it runs at synth, and any
  // unacknowledged finding fails the synth (cdk synth exits 1; in-process synth throws).
  const nag = options.nag === false ? undefined : new AwsSolutionsChecks(app, { verbose: true });
  if (nag) Validations.of(app).addPlugins(nag);
  return { app, nag, config, stacks };
}
