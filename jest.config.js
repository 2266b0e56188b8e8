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
  // Training tests are CPU-bound; two workers match the 2-core machines.
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  maxWorkers: 2,
  testTimeout: 120000,
};
