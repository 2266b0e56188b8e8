// Bundles the CLI into dist/ so the `ml-trainer` bin starts fast (no TypeScript at run time).
// Dependencies stay external: tfjs-node is a native addon and is loaded lazily by the commands that train.
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
