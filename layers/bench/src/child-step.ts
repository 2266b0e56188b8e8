import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ProcessFigures } from './report';

/**
 * Preloaded into the child (node --require): at exit it writes the process's peak RSS
 * (resourceUsage().maxRSS, and VmHWM from /proc/self/status) to $ML_TRAINER_BENCH_PROBE_OUT.
 */
export const PROBE_SOURCE = `'use strict';
const fs = require('fs');
const out = process.env.ML_TRAINER_BENCH_PROBE_OUT;
if (out) {
  process.on('exit', () => {
    let hwm = null;
    try {
      const m = /VmHWM:\\s+(\\d+)\\s*kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
      if (m) hwm = Number(m[1]) * 1024;
    } catch (e) {}
    try {
      const ru = process.resourceUsage();
      fs.writeFileSync(out, JSON.stringify({ maxRssBytes: ru.maxRSS * 1024, vmHwmBytes: hwm, cpuS: (ru.userCPUTime + ru.systemCPUTime) / 1e6, uptimeS: process.uptime() }));
    } catch (e) {}
  });
}
`;

/** The call's first-epoch progress line the CLI prints on stderr: "  epoch 1 (1/5) ... 1.23s" (cli/epoch-progress.ts). */
export function parseFirstEpochLine(line: string): { seconds: number | null } | null {
  if (!/^\s*epoch \d+ \(1\/\d+\)/.test(line)) return null;
  const m = /(\d+(?:\.\d+)?)s\s*$/.exec(line);
  return { seconds: m ? Number(m[1]) : null };
}

export interface ChildStepOptions {
  /** bin/ml-trainer.js of this installation. */
  bin: string;
  task: string;
  batchSize: number;
  epochs: number;
  dataDir: string;
  allowUnverified: boolean;
  env: NodeJS.ProcessEnv;
  timeoutSeconds: number;
  /** Every stderr line of the child (progress). */
  log?: (line: string) => void;
}

/**
 * Runs `ml-trainer run --task T --actions <configure + run_epochs N> --json` in a fresh
 * process and measures spawn → first epoch line, the whole run, and the child's peak RSS.
 */
export async function runChildStep(options: ChildStepOptions): Promise<ProcessFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'ml-trainer-bench-child-'));
  try {
    const actions = join(dir, 'actions.json');
    const probe = join(dir, 'probe.js');
    const probeOut = join(dir, 'probe-out.json');
    await writeFile(
      actions,
      JSON.stringify([
        { tool: 'configure_training', arguments: { batch_size: options.batchSize } },
        { tool: 'run_epochs', arguments: { num_epochs: options.epochs } },
      ]),
    );
    await writeFile(probe, PROBE_SOURCE);
    const args = ['--require', probe, options.bin, 'run', '--task', options.task, '--actions', actions, '--json', '--data-dir', options.dataDir];
    if (options.allowUnverified) args.push('--allow-unverified-data');
    const result = await new Promise<{ code: number | null; firstAt: number | null; firstSeconds: number | null; wall: number; error?: string }>(
      (resolve) => {
        const t0 = performance.now();
        const child = spawn(process.execPath, args, {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...options.env, ML_TRAINER_BENCH_PROBE_OUT: probeOut },
        });
        let firstAt: number | null = null;
        let firstSeconds: number | null = null;
        let pending = '';
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
        }, options.timeoutSeconds * 1000);
        child.stdout.resume();
        child.stderr.on('data', (chunk) => {
          const at = performance.now();
          pending += String(chunk);
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            if (firstAt === null) {
              const first = parseFirstEpochLine(line);
              if (first) {
                firstAt = at;
                firstSeconds = first.seconds;
              }
            }
            if (line.trim() !== '') options.log?.(line);
          }
        });
        child.on('error', (e) => {
          clearTimeout(timer);
          resolve({ code: null, firstAt, firstSeconds, wall: (performance.now() - t0) / 1000, error: e.message });
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          const wall = (performance.now() - t0) / 1000;
          const error = timedOut ? `killed after ${options.timeoutSeconds} s` : code !== 0 ? `exited with code ${code}` : undefined;
          resolve({ code, firstAt: firstAt === null ? null : (firstAt - t0) / 1000, firstSeconds, wall, ...(error ? { error } : {}) });
        });
      },
    );
    let rss: { maxRssBytes?: number; vmHwmBytes?: number | null; cpuS?: number } = {};
    try {
      rss = JSON.parse(await readFile(probeOut, 'utf8'));
    } catch {
      // no probe output: the child was killed or crashed before exit handlers ran
    }
    return {
      task: options.task,
      batch_size: options.batchSize,
      start_to_first_epoch_s: result.firstAt,
      first_epoch_s: result.firstSeconds,
      wall_s: result.wall,
      peak_rss_bytes: rss.maxRssBytes ?? null,
      vm_hwm_bytes: rss.vmHwmBytes ?? null,
      cpu_s: rss.cpuS ?? null,
      exit_code: result.code,
      ...(result.error ? { error: result.error } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
