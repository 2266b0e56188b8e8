// Bundles the CLI into dist/ so the `ml-trainer` bin starts fast (no TypeScript at run time).
// Dependencies stay external: tfjs-node is a native addon and is loaded lazily by the commands that train.
import { build } from 'esbuild';

await build({
  // trainer-worker.js: the worker processes that train a task on another TensorFlow thread count (layers/runtime).
  entryPoints: { cli: 'cli/main.ts', 'trainer-worker': 'layers/runtime/src/trainer-worker-main.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
