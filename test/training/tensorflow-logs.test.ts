import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { quietTensorFlowLogs } from '../../layers/training/src/tensorflow-logs';

/** Runs a TensorFlow kernel in a fresh process loaded through the training layer; `level` is the environment's TF_CPP_MIN_LOG_LEVEL or unset. */
function runKernel(level: string | undefined): { stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.TF_CPP_MIN_LOG_LEVEL;
  if (level !== undefined) env.TF_CPP_MIN_LOG_LEVEL = level;
  const child = spawnSync(process.execPath, [require.resolve('tsx/cli'), join(__dirname, 'fixtures', 'run-one-kernel.ts')], { encoding: 'utf8', env, timeout: 90_000 });
  if (child.status !== 0) throw new Error(`child failed (${child.status}): ${child.stderr}`);
  return { stdout: child.stdout, stderr: child.stderr };
}

describe("TensorFlow's start-up logs", () => {
  it('are set to warnings and errors only, unless a level is already set (--verbose sets 0)', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(quietTensorFlowLogs(env)).toBe('1');
    expect(env.TF_CPP_MIN_LOG_LEVEL).toBe('1');
    expect(quietTensorFlowLogs({ TF_CPP_MIN_LOG_LEVEL: '0' })).toBe('0');
    expect(quietTensorFlowLogs({ TF_CPP_MIN_LOG_LEVEL: '' })).toBe('1');
  });

  it("leave out TensorFlow's INFO lines in a process that trains, and show them at level 0", () => {
    const quiet = runKernel(undefined);
    expect(quiet.stdout).toContain('level 1');
    expect(quiet.stderr).not.toMatch(/cpu_feature_guard|This TensorFlow binary is optimized/);
    // tfjs-node's util.isNullOrUndefined/isArray calls: node-compat.ts keeps Node 22's DEP0051/DEP0044 from repeating per process.
    expect(quiet.stderr).not.toContain('DeprecationWarning');
    const verbose = runKernel('0');
    expect(verbose.stdout).toContain('level 0');
    // Machines whose CPU the library was built for print no feature notice at all: nothing to compare then.
    if (/cpu_feature_guard/.test(verbose.stderr)) expect(verbose.stderr).toMatch(/This TensorFlow binary is optimized/);
  });
});
