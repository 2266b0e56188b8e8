import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildApp, type BuildAppOptions, type BuiltApp, type MlTrainerStacks } from '../../infra/build-app';

export type StackName = keyof MlTrainerStacks;
export const STACK_NAMES: StackName[] = ['data', 'compute', 'api', 'batch', 'observability'];

export interface Synthesized extends BuiltApp {
  assembly: CloudAssembly;
  templates: Record<StackName, Template>;
  outdir: string;
  /** cdk-nag findings (rule ids) still unacknowledged after synth; [] when the app is clean. */
  nagViolations: string[];
  /** Removes the assembly directory. */
  cleanup(): void;
}

/**
 * Builds and synthesises the whole app in-process, as `cdk synth` does (cdk-nag included: in
 * jest, NODE_ENV=test, an unacknowledged finding makes synth throw with the report).
 * One call per test file; share the result across its tests.
 */
export function synthesize(options: Omit<BuildAppOptions, 'outdir'> = {}): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ml-trainer-cdk-'));
  const built = buildApp({ processEnv: {}, ...options, outdir });
  const assembly = built.app.synth();
  const templates = Object.fromEntries(STACK_NAMES.map((name) => [name, Template.fromStack(built.stacks[name])])) as Record<StackName, Template>;
  const report = built.nag ? built.nag.validateScope(built.app) : { violations: [] };
  return {
    ...built,
    assembly,
    templates,
    outdir,
    nagViolations: report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    cleanup: () => fs.rmSync(outdir, { recursive: true, force: true }),
  };
}

/** Context that skips asset bundling (fast synths of configuration variants; no esbuild run). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

/** Errors and warnings annotated on a stack whose message names an AwsSolutions rule. */
export function nagAnnotations(synth: Synthesized, name: StackName): unknown[] {
  const annotations = Annotations.fromStack(synth.stacks[name]);
  const pattern = Match.stringLikeRegexp('AwsSolutions-.*');
  return [...annotations.findError('*', pattern), ...annotations.findWarning('*', pattern)];
}

/** The resources of one type in a template, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: Record<string, any>; [key: string]: any }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, any> }>;
}
