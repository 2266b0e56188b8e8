// Mutation testing (issue 18): `npm run mutation` plants small bugs (mutants) in the pure core
// (graders, rewards, budget and step rules) and in the step protocol (episodes, the episode
// store), one at a time, and runs the tests that cover each; a mutant no test notices (a
// survivor) is a behaviour the suite does not pin. Not part of `npm test`: too slow for it.
// Each area is its own Stryker run with its own tests and report (MUTATION_AREA, set by
// scripts/mutation.mjs): the core is judged by its unit tests alone, which keeps a core mutant
// from reloading every dynalite-backed episode test file.
// Equivalent mutants (no observable difference) are disabled where they stand, with
// `// Stryker disable next-line <mutator>: <why>`, so every survivor in the report is a real gap.

/** What each area mutates and the tests that judge it. */
export const AREAS = {
  core: {
    mutate: [
      'layers/core/src/**/*.ts',
      // Re-exports and type-only modules: nothing a test could observe.
      '!layers/core/src/**/index.ts',
      '!layers/core/src/trainer-port.ts',
    ],
    // test/tasks is left out: its one file loads the server, cloud and reports layers, seconds per mutant.
    tests: ['core'],
    /** Issue 18's acceptance: the score the report shows green from. */
    goal: 90,
    /** Test processes at once: the core's tests are CPU-bound, one per core. */
    concurrency: 2,
  },
  protocol: {
    mutate: ['layers/episodes/src/**/*.ts', '!layers/episodes/src/index.ts', 'layers/storage/src/episode-store.ts'],
    tests: ['episodes', 'storage'],
    goal: 80,
    // A third of this area's mutants hang a test on a lease or a timer until Stryker's timeout,
    // with the CPU idle (load 0.4 with two processes, 2026-12-03): four processes overlap those waits.
    concurrency: 4,
  },
};

/** The environment scripts/mutation.mjs sets for each run: the area, and whether static mutants run. */
export const MUTATION_ENV = { area: 'MUTATION_AREA', withStatic: 'MUTATION_WITH_STATIC' };

const areaName = process.env[MUTATION_ENV.area] ?? 'core';
const area = AREAS[areaName];
if (!area) throw new Error(`MUTATION_AREA=${areaName} is not an area of stryker.config.mjs: use one of ${Object.keys(AREAS).join(', ')}`);
const REPORTS = `reports/mutation/${areaName}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: area.mutate,
  // StrykerJS's jest runner, running only the test files that cover each mutant (see the file).
  plugins: ['@stryker-mutator/jest-runner', './scripts/mutation-test-runner.mjs'],
  testRunner: 'jest-covering-files',
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    // jest.config.js's swc transform as it is; only the area's test files, and no summary reporter.
    config: {
      testMatch: area.tests.map((dir) => `<rootDir>/test/${dir}/**/*.test.ts`),
      testPathIgnorePatterns: [
        '/node_modules/',
        // It reads the core's source text, which Stryker rewrites with its own switches in the sandbox.
        '/test/core/purity\\.test\\.ts$',
        // It kills a child process mid-step (a minute of wall time); the child runs the sources unmutated.
        '/test/episodes/killed-step\\.test\\.ts$',
      ],
      reporters: ['default'],
    },
    // A mutant is often covered by tests named after other files: let coverage choose, not file names.
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'perTest',
  // A mutant reached outside any test (a test file's top level, a beforeAll) is "static": Stryker
  // would run every test of the area for it (the core's 215: 8 min 46 s on 2 workers). Mutants reached by tests as well still run
  // against those tests; only the ones no test reaches are skipped (listed as Ignored in the report).
  // `npm run mutation -- --with-static` runs them too (Stryker's CLI can only turn this on).
  ignoreStatic: process.env[MUTATION_ENV.withStatic] !== '1',
  // Per area (above); scripts/mutation.mjs runs them at nice 15, so other work on the machine comes first.
  concurrency: area.concurrency,
  // Each mutant is a jest runCLI inside the same worker; the worker's heap grows with every run
  // (1.1 GB to 1.5 GB over 80 runs here) and the rate fell from ~50 to ~9 mutants a minute.
  // A fresh worker every few runs costs ~2 s and keeps it at the first rate.
  maxTestRunnerReuse: 10,
  // Loopback dynalite/s3rver on a loaded machine: a mutant that hangs a test is "timed out" (detected) after this margin.
  timeoutMS: 20000,
  timeoutFactor: 2,
  reporters: ['html', 'clear-text', 'progress', 'json'],
  htmlReporter: { fileName: `${REPORTS}/index.html` },
  jsonReporter: { fileName: `${REPORTS}/mutation.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // Re-runs test only the mutants whose code or covering tests changed since the last run (`--force` for all).
  incremental: true,
  incrementalFile: `${REPORTS}/stryker-incremental.json`,
  tempDirName: 'reports/mutation/.stryker-tmp',
  cleanTempDir: 'always',
  // The sandbox copies the project; build output, CDK output and test artifacts are not needed there.
  ignorePatterns: ['/dist', '/cdk.out', '/coverage', '/reports', '/test-artifacts', '/.ml-trainer', '/examples'],
  thresholds: { high: area.goal, low: area.goal - 10, break: null },
};
