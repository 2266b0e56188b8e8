// A Stryker test runner (stryker.config.mjs: testRunner 'jest-covering-files'): StrykerJS's own
// jest runner, except that each mutant runs only the test files that hold the tests covering it.
//
// Hand-written because StrykerJS 9's jest runner filters a mutant's tests by name only: jest then
// loads every test file of the area to find them (7 s for the step protocol's 23 files with no
// test selected, most of them loading dynalite and the AWS SDK), though a mutant's tests are often
// in fewer files. The jest runner's adapter already runs a given list of test files (it does for
// the dry run); this passes it the covering files on mutant runs as well. Measured on the
// protocol's step-plan.ts, lines 30-40: 256 s instead of 308 s (both on 2 workers).
//
// Test ids map to files in the dry run, which runs in one worker; mutant runs happen in every
// worker, including ones started later (maxTestRunnerReuse), so the map is shared through a file
// in the sandbox, which every worker runs in.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonTokens, declareFactoryPlugin, PluginKind, tokens } from '@stryker-mutator/api/plugin';
import { strykerPlugins as jestRunnerPlugins } from '@stryker-mutator/jest-runner';

const jestRunnerPlugin = jestRunnerPlugins.find((plugin) => plugin.kind === PluginKind.TestRunner && plugin.name === 'jest');
if (!jestRunnerPlugin) throw new Error("@stryker-mutator/jest-runner no longer exports its 'jest' test runner: update scripts/mutation-test-runner.mjs");

/**
 * Where the dry run leaves the test files by test id: the sandbox, every worker's working
 * directory once it runs tests (not yet when it loads this module, hence a function).
 */
const testFilesMap = () => join(process.cwd(), '.stryker-test-files.json');

/** jest takes test files as path patterns (regular expressions). */
const asPathPattern = (file) => `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;

class CoveringFilesTestRunner {
  /** @param inner StrykerJS's JestTestRunner */
  constructor(inner, log) {
    this.inner = inner;
    this.log = log;
    this.filesById = undefined;
    this.testFiles = undefined;
    const adapter = inner.jestTestAdapter;
    if (typeof adapter?.run !== 'function') {
      throw new Error('the jest runner no longer keeps its test adapter in jestTestAdapter: update scripts/mutation-test-runner.mjs or use testRunner "jest"');
    }
    const run = adapter.run.bind(adapter);
    adapter.run = (settings) => run(this.testFiles ? { ...settings, testFiles: this.testFiles } : settings);
  }

  capabilities() {
    return this.inner.capabilities();
  }

  init() {
    return this.inner.init();
  }

  dispose() {
    return this.inner.dispose?.();
  }

  async dryRun(options) {
    const result = await this.inner.dryRun(options);
    if (result.status === 'complete') {
      const filesById = Object.fromEntries(result.tests.filter((t) => t.fileName).map((t) => [t.id, t.fileName]));
      writeFileSync(testFilesMap(), JSON.stringify(filesById));
      this.filesById = filesById;
    }
    return result;
  }

  async mutantRun(options) {
    this.testFiles = this.coveringFiles(options.testFilter);
    this.log.debug(`mutant ${options.activeMutant.id}: ${this.testFiles ? `${this.testFiles.length} test file(s)` : 'every test file'}`);
    try {
      return await this.inner.mutantRun(options);
    } finally {
      this.testFiles = undefined;
    }
  }

  /** The test files holding these tests; undefined (every file) without a filter or for an unknown id. */
  coveringFiles(testFilter) {
    if (!testFilter) return undefined;
    this.filesById ??= JSON.parse(readFileSync(testFilesMap(), 'utf8'));
    const files = new Set();
    for (const id of testFilter) {
      const file = this.filesById[id];
      if (!file) return undefined;
      files.add(file);
    }
    return [...files].map(asPathPattern);
  }
}

coveringFilesTestRunner.inject = tokens(commonTokens.injector, commonTokens.logger);
function coveringFilesTestRunner(injector, log) {
  return new CoveringFilesTestRunner(injector.injectFunction(jestRunnerPlugin.factory), log);
}

export const strykerPlugins = [declareFactoryPlugin(PluginKind.TestRunner, 'jest-covering-files', coveringFilesTestRunner)];
