import { renderTable } from './table';
import { SERVER_CALL_KINDS, type ServerLatencyFigures } from './server-latency';

/** Issue 16's targets for get_training_status through the local server. */
export const STATUS_TARGET_MS = { p50: 15, p99: 50 } as const;

const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1));

/** The server latency section of the bench report: one table row per call kind, then the target check and the conditions. */
export function renderServerLatency(figures: ServerLatencyFigures): string[] {
  const rows = SERVER_CALL_KINDS.map((kind) => {
    const c = figures.calls[kind];
    return [kind, String(c.n), ms(c.p50_ms), ms(c.p90_ms), ms(c.p99_ms), ms(c.max_ms)];
  });
  const status = figures.calls.get_training_status;
  const met = status.p50_ms <= STATUS_TARGET_MS.p50 && status.p99_ms <= STATUS_TARGET_MS.p99;
  const lines = [
    `Non-training calls through a local server (REST, keep-alive; ${figures.task}, ${figures.episodes} episodes after ${figures.warmup_episodes} warm-up` +
      `${figures.trained_epoch ? ', each with one untimed epoch before its status calls' : ''}); milliseconds, request to whole answer`,
    ...renderTable(['call', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], rows, 1).split('\n'),
    `  get_training_status target p50 <= ${STATUS_TARGET_MS.p50} ms, p99 <= ${STATUS_TARGET_MS.p99} ms: ${met ? 'met' : 'NOT met'}; ` +
      `server start ${figures.server_start_s.toFixed(2)} s; load ${figures.load1_before.toFixed(2)} -> ${figures.load1_after.toFixed(2)}`,
  ];
  if (figures.failures.length > 0) {
    lines.push(`  ${figures.failures.length} call(s) failed, first: ${figures.failures[0]!.call} HTTP ${figures.failures[0]!.status} ${figures.failures[0]!.message}`);
  }
  return lines;
}
