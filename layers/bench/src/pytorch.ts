import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadAverage, PyTorchTiming } from './report';
import { median, summarize } from './stats';

/** The torch version the reference figures were taken with. */
export const PYTORCH_VERSION = '2.13.0';

/** One row of `pt_reference.py timing --out file.json`. */
export interface PtTimingRow {
  task: string;
  batch_size: number;
  timing: PyTorchTiming;
}

export interface PtTimingFile {
  torch: string | null;
  threads: number | null;
  rows: PtTimingRow[];
}

export class PtTimingFormatError extends Error {
  override readonly name = 'PtTimingFormatError';
}

function fail(message: string): never {
  throw new PtTimingFormatError(`pt_reference timing JSON: ${message}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function finiteNumber(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function loadavgOf(v: unknown): LoadAverage {
  const l = isObject(v) && Array.isArray(v.loadavg) ? v.loadavg : null;
  if (!l || l.length !== 3 || !l.every((x) => typeof x === 'number')) return [NaN, NaN, NaN];
  return [l[0], l[1], l[2]] as LoadAverage;
}

/** Parses the JSON document `pt_reference.py timing` writes (validated; max computed from epoch_s). */
export function parsePtTiming(json: unknown): PtTimingFile {
  if (!isObject(json)) fail('not an object');
  if (!Array.isArray(json.rows)) fail('"rows" must be an array');
  const env = isObject(json.env) ? json.env : {};
  const rows = json.rows.map((row, i): PtTimingRow => {
    const where = `rows[${i}]`;
    if (!isObject(row)) fail(`${where} is not an object`);
    if (typeof row.task !== 'string') fail(`${where}.task must be a string`);
    const batch = finiteNumber(row.batch_size, `${where}.batch_size`);
    if (!Array.isArray(row.epoch_s) || row.epoch_s.length === 0) fail(`${where}.epoch_s must be a non-empty array`);
    const epochs = row.epoch_s.map((e, k) => finiteNumber(e, `${where}.epoch_s[${k}]`));
    const warm = row.warmup_epoch_s;
    return {
      task: row.task,
      batch_size: batch,
      timing: {
        epoch_s: epochs,
        warmup_epoch_s: typeof warm === 'number' ? [warm] : [],
        epoch: summarize(epochs),
        median_train_s: finiteNumber(row.median_train_s, `${where}.median_train_s`),
        median_val_s: finiteNumber(row.median_val_s, `${where}.median_val_s`),
        median_cpu_s: typeof row.median_cpu_s === 'number' ? row.median_cpu_s : null,
        real_data: row.real_data === true,
        standin: row.standin === true,
        loadavg_before: loadavgOf(row.uptime_before),
        loadavg_after: loadavgOf(row.uptime_after),
      },
    };
  });
  return {
    torch: typeof env.torch === 'string' ? env.torch : null,
    threads: typeof env.torch_threads === 'number' ? env.torch_threads : null,
    rows,
  };
}

/**
 * Pools the rows of several pt_reference runs (rounds) of one task and batch size: every
 * measured epoch together (summary over all of them), every warm-up epoch listed, the load
 * before the first run and after the last. pt_reference writes only the medians of the train,
 * val and CPU seconds, so those pooled figures are the median of the runs' medians.
 */
export function poolPtTimings(timings: readonly PyTorchTiming[]): PyTorchTiming {
  if (timings.length === 0) throw new RangeError('no PyTorch runs to pool');
  if (timings.length === 1) return timings[0]!;
  const epochs = timings.flatMap((t) => t.epoch_s);
  const cpu = timings.map((t) => t.median_cpu_s).filter((v): v is number => v !== null);
  return {
    epoch_s: epochs,
    warmup_epoch_s: timings.flatMap((t) => t.warmup_epoch_s),
    epoch: summarize(epochs),
    median_train_s: median(timings.map((t) => t.median_train_s)),
    median_val_s: median(timings.map((t) => t.median_val_s)),
    median_cpu_s: cpu.length > 0 ? median(cpu) : null,
    real_data: timings.every((t) => t.real_data),
    standin: timings.some((t) => t.standin),
    loadavg_before: timings[0]!.loadavg_before,
    loadavg_after: timings[timings.length - 1]!.loadavg_after,
  };
}

// ---------------------------------------------------------------- processes

export interface ProcessResult {
  code: number | null;
  stdout: string;
}

/** Runs a program; its stdout is returned, and every output line is also passed to `log` (progress). */
export function runProgram(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void; captureStdout?: boolean } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let out = '';
    const lines = (stream: NodeJS.ReadableStream, capture: boolean) => {
      let pending = '';
      stream.on('data', (chunk) => {
        const text = String(chunk);
        if (capture) out += text;
        pending += text;
        const parts = pending.split(/\r?\n|\r/);
        pending = parts.pop() ?? '';
        for (const p of parts) if (p.trim() !== '') options.log?.(p);
      });
      stream.on('end', () => {
        if (pending.trim() !== '') options.log?.(pending);
      });
    };
    lines(child.stdout, options.captureStdout ?? false);
    lines(child.stderr, false);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: out }));
  });
}

export interface PythonInfo {
  python: string;
  torch: string | null;
  numpy: string | null;
}

/** What `python` has installed (torch and numpy versions, null when missing); null when it does not run. */
export async function probePython(python: string): Promise<PythonInfo | null> {
  const code =
    'import json\n' +
    'out = {}\n' +
    'for name in ("torch", "numpy"):\n' +
    '    try:\n' +
    '        out[name] = __import__(name).__version__\n' +
    '    except Exception:\n' +
    '        out[name] = None\n' +
    'print(json.dumps(out))\n';
  try {
    const r = await runProgram(python, ['-c', code], { captureStdout: true });
    if (r.code !== 0) return null;
    const parsed = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { torch?: string | null; numpy?: string | null };
    return { python, torch: parsed.torch ?? null, numpy: parsed.numpy ?? null };
  } catch {
    return null;
  }
}

export interface InterpreterOptions {
  /** An existing interpreter with torch (--python); used as is. */
  python?: string;
  /** The venv to use or create (default ~/.cache/ml-trainer/ptvenv). */
  venvDir: string;
  /** The interpreter that creates the venv (default python3). */
  basePython?: string;
  log: (line: string) => void;
}

export class PyTorchSetupError extends Error {
  override readonly name = 'PyTorchSetupError';
}

/**
 * A Python interpreter with torch and numpy: --python as given, else the venv (created with
 * `python3 -m venv` and `pip install torch==2.13.0 numpy` when it is missing or lacks torch).
 */
export async function ensurePyTorch(options: InterpreterOptions): Promise<PythonInfo> {
  if (options.python !== undefined) {
    const info = await probePython(options.python);
    if (!info) throw new PyTorchSetupError(`--python ${options.python} does not run`);
    if (!info.torch || !info.numpy) {
      throw new PyTorchSetupError(
        `${options.python} has no ${!info.torch ? 'torch' : 'numpy'}; install it with ` +
          `\`${options.python} -m pip install torch==${PYTORCH_VERSION} numpy\`, or leave out --python to let the bench create a venv`,
      );
    }
    if (!info.torch.startsWith(PYTORCH_VERSION)) options.log(`warning: ${options.python} has torch ${info.torch}; the reference figures used ${PYTORCH_VERSION}`);
    return info;
  }
  const python = join(options.venvDir, 'bin', 'python');
  if (existsSync(python)) {
    const info = await probePython(python);
    if (info?.torch && info.numpy) return info;
  } else {
    const base = options.basePython ?? 'python3';
    options.log(`creating a Python venv in ${options.venvDir} (${base} -m venv)`);
    const r = await runProgram(base, ['-m', 'venv', options.venvDir], { log: options.log }).catch((e: Error) => {
      throw new PyTorchSetupError(`could not run ${base} to create the venv: ${e.message}`);
    });
    if (r.code !== 0) throw new PyTorchSetupError(`${base} -m venv ${options.venvDir} failed (exit ${r.code})`);
  }
  options.log(`installing torch==${PYTORCH_VERSION} and numpy into ${options.venvDir} (pip; from the machine's pip index)`);
  let retries = 0;
  const pip = await runProgram(python, ['-m', 'pip', 'install', '--progress-bar', 'off', `torch==${PYTORCH_VERSION}`, 'numpy'], {
    // An offline machine's pip retries each unreachable index five times: count those lines instead of printing them.
    log: (line) => (/WARNING: Retrying \(Retry\(/.test(line) ? (retries += 1) : options.log(`pip: ${line}`)),
  });
  if (retries > 0) options.log(`pip: (${retries} retries of an unreachable index not shown)`);
  if (pip.code !== 0) {
    throw new PyTorchSetupError(
      `pip install torch==${PYTORCH_VERSION} numpy failed (exit ${pip.code}); see the pip output above, ` +
        'or pass --python <interpreter> of an environment that already has torch',
    );
  }
  const info = await probePython(python);
  if (!info?.torch || !info.numpy) throw new PyTorchSetupError(`torch is still not importable in ${python} after pip install`);
  return info;
}

/** How to get pt_reference.py when it is not where the bench looks. */
export function missingScriptMessage(path: string): string {
  return (
    `the PyTorch reference script is not at ${path}. It is pt_reference.py from the shared reference ` +
    'folder (shared/reference/ beside this repository, with pytorch-reference.md). Copy it next to the ' +
    'repository as ../shared/reference/pt_reference.py, or pass --pytorch-script <path>.'
  );
}

/** The data folders pt_reference reads (PTREF_*_DIR), by dataset name. */
export interface PtDataDirs {
  mnist?: string;
  fashion_mnist?: string;
  cifar10?: string;
}

/** Runs `pt_reference.py timing` for one task and batch size and returns its row. */
export async function runPtTiming(options: {
  python: string;
  script: string;
  task: string;
  batchSize: number;
  epochs: number;
  warmup: number;
  dataDirs: PtDataDirs;
  threadsEnv?: NodeJS.ProcessEnv;
  log: (line: string) => void;
}): Promise<PtTimingFile> {
  const dir = await mkdtemp(join(tmpdir(), 'ml-trainer-bench-pt-'));
  const out = join(dir, 'timing.json');
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.threadsEnv, PYTHONUNBUFFERED: '1' };
  if (options.dataDirs.mnist) env.PTREF_MNIST_DIR = options.dataDirs.mnist;
  if (options.dataDirs.fashion_mnist) env.PTREF_FASHION_DIR = options.dataDirs.fashion_mnist;
  if (options.dataDirs.cifar10) env.PTREF_CIFAR_DIR = options.dataDirs.cifar10;
  try {
    const args = [
      options.script, 'timing',
      '--tasks', options.task,
      '--batch-sizes', String(options.batchSize),
      '--epochs', String(options.epochs),
      '--warmup', String(options.warmup),
      '--out', out,
    ];
    const r = await runProgram(options.python, args, { env, log: options.log });
    if (r.code !== 0) throw new Error(`pt_reference.py timing exited with code ${r.code}`);
    return parsePtTiming(JSON.parse(await readFile(out, 'utf8')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
