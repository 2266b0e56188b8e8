// Mutation testing (issue 18): `npm run mutation` plants small bugs (mutants) in the pure core,
// the graders and the step protocol, one at a time, and runs the tests that cover each; a
// mutant no test notices (a survivor) is a behaviour the suite does not pin. Not part of
// `npm test`: a full run takes tens of minutes on 2 cores (see README, Mutation testing).
// Narrow a run with `npm run mutation -- --mutate 'layers/core/src/rewards.ts'`.
// Equivalent mutants (no observable difference) are disabled where they stand, with
// `// Stryker disable next-line <mutator>: <why>`, so every survivor in the report is a real gap.

/** The tests that exercise the mutated files; the rest of the suite (training, server, browser) is slow and covers them only through these layers. */
const TEST_DIRS = ['core', 'episodes', 'storage', 'tasks'];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'layers/core/src/**/*.ts',
    'layers/episodes/src/**/*.ts',
    'layers/storage/src/episode-store.ts',
    // Re-exports and type-only modules: nothing to mutate that a test could observe.
    '!layers/*/src/**/index.ts',
    '!layers/core/src/trainer-port.ts',
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    // jest.config.js's swc transform as it is; only the relevant test files, and no summary reporter.
    config: {
      testMatch: TEST_DIRS.map((dir) => `<rootDir>/test/${dir}/**/*.test.ts`),
      // It reads the core's source text, which Stryker rewrites with its own switches in the sandbox.
      testPathIgnorePatterns: ['/node_modules/', '/test/core/purity\\.test\\.ts$'],
      reporters: ['default'],
    },
    // A core mutant is covered by tests in other folders too (episodes, storage): let coverage choose, not file names.
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'perTest',
  // A mutant reached outside any test (a test file's top level, a beforeAll) is "static": Stryker
  // would reload every test file for it (~45 s each here). Mutants reached by tests as well still run
  // against those tests; only the ones no test reaches are skipped (listed as Ignored in the report).
  // `npm run mutation -- --ignoreStatic false` runs them too (hours).
  ignoreStatic: true,
  // The machine's 2 cores are shared: two test processes at most (scripts/mutation.mjs also runs them at nice 15).
  concurrency: 2,
  // Loopback dynalite/s3rver and a loaded machine: a mutant that hangs a test is "timed out" (detected) after this margin.
  timeoutMS: 20000,
  timeoutFactor: 2,
  reporters: ['html', 'clear-text', 'progress', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // Re-runs test only the mutants whose code or covering tests changed since the last run (`--force` for all).
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  tempDirName: 'reports/mutation/.stryker-tmp',
  cleanTempDir: 'always',
  // The sandbox copies the project; build output, CDK output and test artifacts are not needed there.
  ignorePatterns: ['/dist', '/cdk.out', '/coverage', '/reports', '/test-artifacts', '/.ml-trainer', '/examples'],
  thresholds: { high: 90, low: 80, break: null },
};
