import * as path from 'node:path';

/** The repository root (infra/ sits directly below it). */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** The Lambda handler entry files, relative to the repository root. Each exports `handler`. */
export const HANDLER_ENTRIES = {
  api: 'functions/api/handler.ts',
  grade: 'functions/grade/handler.ts',
  findEpisodes: 'functions/batch/find-episodes.ts',
  gradeBatch: 'functions/batch/grade-batch.ts',
  writeReport: 'functions/batch/write-report.ts',
  training: 'functions/training/handler.ts',
} as const;

/** The training image's Dockerfile, relative to the repository root (the build context). */
export const TRAINING_DOCKERFILE = 'functions/training/Dockerfile';

/**
 * What of the repository the training image's build context holds (Docker ignore syntax,
 * an allow-list): the manifests, the TypeScript sources the handler imports and the bundle
 * script. Everything else (node_modules, dist, cdk.out, .git, tests, datasets) stays out,
 * so the asset hash changes only when the image's inputs change.
 */
export const TRAINING_IMAGE_CONTEXT_EXCLUDES = [
  '*',
  '!package.json',
  '!package-lock.json',
  '!tsconfig.json',
  '!layers',
  '!functions',
  '!infra/bundle-functions.mjs',
  '**/node_modules',
  '**/dist',
  '**/*.test.ts',
  'layers/*/bench',
] as const;

/**
 * The training image's build arguments an operator may set through CDK context
 * (trainingImageBuildArgs; TFJS_NODE_CDN_STORAGE has its own key): the base images and the
 * mirrors of an air-gapped build. The Dockerfile declares each (a test checks it).
 */
export const TRAINING_IMAGE_BUILD_ARGS = ['BASE_IMAGE', 'BUILD_BASE_IMAGE', 'NPM_REGISTRY', 'TFJS_BINDING_HOST_MIRROR', 'NODEJS_HEADERS_DIR'] as const;

export function repoPath(relative: string): string {
  return path.join(REPO_ROOT, relative);
}
