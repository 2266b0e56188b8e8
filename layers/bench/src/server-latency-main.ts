import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findRepoRoot } from './environment';
import { measureServerLatency } from './server-latency';
import { renderServerLatency } from './server-latency-report';

// `npx tsx layers/bench/src/server-latency-main.ts [--data-dir D] [--status-calls N] [--warmup N] [--task T] [--bin B] [--json]`:
// the server latency section alone (bin/ml-trainer.js runs dist/: rebuild it first to measure changed sources).
if (require.main === module) {
  const { values } = parseArgs({
    options: { 'data-dir': { type: 'string' }, 'status-calls': { type: 'string' }, warmup: { type: 'string' }, bin: { type: 'string' }, task: { type: 'string' }, json: { type: 'boolean' } },
  });
  measureServerLatency({
    bin: values.bin ?? join(findRepoRoot(), 'bin', 'ml-trainer.js'),
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    ...(values['status-calls'] === undefined ? {} : { statusCalls: Number(values['status-calls']) }),
    ...(values.warmup === undefined ? {} : { warmupCalls: Number(values.warmup) }),
    ...(values.task === undefined ? {} : { task: values.task }),
    log: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (figures) => process.stdout.write(values.json ? `${JSON.stringify(figures)}\n` : `${renderServerLatency(figures).join('\n')}\n`),
    (error: unknown) => {
      process.stderr.write(`server-latency: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
