import { MAX_EPOCHS_PER_CALL } from '../../core/src';
import { type CostReport, type CostRow, MEMORY_HEADROOM } from './cost-model-pick';

/**
 * The cost table as Markdown (the README shows exactly this text; a test keeps them equal):
 * per task, memory and the thread count the task trains on, then the pick.
 */

const usd = (v: number): string => `$${v < 0.001 ? v.toFixed(5) : v.toFixed(4)}`;
const num = (v: number, digits: number): string => v.toFixed(digits);

/** Every (task, memory, thread count the task trains on) once: a task that stays on one thread shows one row per memory. */
export function shownRows(report: CostReport): CostRow[] {
  const seen = new Set<string>();
  return report.rows.filter((r) => {
    const key = `${r.task}/${r.memory_mb}/${r.task_threads}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isPick(report: CostReport, row: CostRow): boolean {
  if (report.pick === null || report.pick.memory_mb !== row.memory_mb) return false;
  const atPick = report.rows.find((r) => r.task === row.task && r.memory_mb === row.memory_mb && r.threads === report.pick!.threads);
  return atPick?.task_threads === row.task_threads;
}

export function renderCostTable(report: CostReport): string {
  const header = '| task | memory MB | threads | epoch s | steps (sync) | 20-epoch step s | training GB-s | training $ | api + requests $ | total $ / episode |';
  const rule = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = [...shownRows(report)]
    .sort((x, y) => x.task.localeCompare(y.task) || x.memory_mb - y.memory_mb || x.task_threads - y.task_threads)
    .map((r) => {
      const mark = isPick(report, r) ? ' **←**' : '';
      const over = r.bound_step_s > report.max_step_seconds ? ' (over)' : '';
      return `| ${r.task} | ${r.memory_mb}${mark} | ${r.task_threads} | ${num(r.usage.epoch_s, 3)} | ${r.usage.steps} (${r.usage.sync_steps}) | ${num(r.bound_step_s, 0)}${over} | ${num(r.usage.training_gb_s, 1)} | ${usd(r.cost.training_usd)} | ${usd(r.cost.requests_usd)} | ${usd(r.cost.total_usd)} |`;
    });
  return [header, rule, ...rows, '', pickLine(report)].join('\n');
}

export function pickLine(report: CostReport): string {
  const bound =
    `a ${MAX_EPOCHS_PER_CALL}-epoch step of every task, cold start included, within ${report.max_step_seconds} s; ` +
    `memory ${report.pick_memory_range_mb[0]}-${report.pick_memory_range_mb[1]} MB and at least ${MEMORY_HEADROOM} × a step's peak RSS`;
  if (report.pick === null) return `No pick: ${report.no_pick} (bound: ${bound}).`;
  const p = report.pick;
  const targets = p.targets.map((t) => `${t.task} ${usd(t.total_usd)} ${t.met ? '≤' : '>'} ${usd(t.target_usd)}${t.met ? '' : ' (MISSED)'}`).join(', ');
  return (
    `Pick (**←**): ${p.memory_mb} MB, TF_NUM_INTRAOP_THREADS=${p.threads} (${report.architecture}), the cheapest with ${bound}. ` +
    `Targets per full episode: ${targets}.`
  );
}

/** What the model assumed, for the text output under the table. */
export function renderAssumptions(report: CostReport): string {
  const a = report.assumptions;
  const m = report.measurements;
  return [
    `Epoch times measured ${m.measured_at} on ${m.machine}, batch ${m.batch_size}, load average ${m.load_average} (layers/cloud/src/cost-measurements.ts).`,
    `Assumed (not measured here): api function ${a.apiMemoryMb} MB, ${a.apiRequestSeconds} s a request, ${a.apiColdStartSeconds} s cold start per episode; ` +
      `${a.trainingColdStartsPerEpisode} training cold start per episode; S3 at ${a.s3BytesPerSecond / 1e6} MB/s; ${a.dynamoCallSeconds * 1000} ms a DynamoDB call; ` +
      `episode item ${a.itemKb.first}-${a.itemKb.last} KB; ${a.otherRequestsPerEpisode} other requests per episode; sync steps up to ${a.syncBudgetSeconds} s; ` +
      `lease rewritten every ${a.leaseRenewSeconds} s; polls ${a.pollFirstSeconds} s doubling to ${a.pollMaxSeconds} s; arm64 epochs as fast as x86_64 (unmeasured).`,
    'Not counted: ephemeral storage above 512 MB, S3 and DynamoDB storage, CloudWatch, data transfer, the free tier, batch grading.',
    'Per task, its own cheapest: ' + report.per_task.map((t) => `${t.task} ${t.memory_mb} MB/${t.threads} thread${t.threads === 1 ? '' : 's'} ${usd(t.total_usd)}`).join(', ') + '.',
  ].join('\n');
}
