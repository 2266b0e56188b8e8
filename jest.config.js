/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    }],
  },
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  // What the training layer's index does before anything loads tfjs-node, done for the tests too:
  // many import the layer's modules directly, and the first to load tfjs-node in a worker printed
  // Node 22's DEP0044/DEP0051 (the util shim, per test file) and TensorFlow's INFO lines (its log
  // level, in jest's own environment, which the workers inherit). Fresh processes
  // (test/training/tensorflow-logs.test.ts, test/runtime/node-compat.test.ts) check the index itself.
  globalSetup: '<rootDir>/test/global-setup.ts',
  setupFiles: ['<rootDir>/layers/training/src/node-compat.ts'],
  // Training tests are CPU-bound; two workers match the 2-core machines.
  maxWorkers: 2,
  testTimeout: 120000,
  // A worker ends when its event loop drains; one that loaded TensorFlow, dynalite and Chromium
  // holds ~0.8 GB and needs about a second more to tear down natively, past jest's default
  // 500 ms, after which it is killed with "A worker process has failed to exit gracefully".
  // Measured: no open handles (--detectOpenHandles), and with a longer grace every worker exits
  // on its own. A real leak still shows: its worker outlives this too and gets the same warning.
  workerGracefulExitTimeout: 5000,
};
