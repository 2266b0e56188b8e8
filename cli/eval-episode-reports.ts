import { access } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { RestEnvironment, type AgentEnvironment, type EvalEpisode } from '../layers/agent/src';
import { writeFileAtomic } from '../layers/datasets/src';
import { buildEpisodeReport, renderEpisodeReportHtml } from '../layers/reports/src';
import { UsageError } from './command';
import { hrefKey } from './eval-output';
import type { PlayedEvalEpisode } from './eval-runner';

/**
 * Links to each episode's report: in-process with --out, the report written into
 * <out>-episodes/; with --url on a local server (loopback), its dashboard's page.
 */
export function episodeReportWriter(values: { out?: string; tenant?: string }, environment: AgentEnvironment) {
  const hrefs = new Map<string, string>();
  const out = values.out;
  const folderName = out === undefined ? '' : `${basename(out, extname(out))}-episodes`;
  const fileOf = (e: EvalEpisode) => `${e.task_id}-seed${e.seed}.html`;
  const serverLink = (e: EvalEpisode): string | null => {
    if (!(environment instanceof RestEnvironment) || e.episode_id === '' || !isLoopback(environment.description)) return null;
    const tenant = values.tenant === undefined ? '' : `?tenant=${encodeURIComponent(values.tenant)}`;
    return `${environment.description}/dashboard/episodes/${encodeURIComponent(e.episode_id)}/report.html${tenant}`;
  };
  return {
    hrefs,
    async write(played: PlayedEvalEpisode): Promise<void> {
      const e = played.episode;
      const link = serverLink(e);
      if (link !== null) hrefs.set(hrefKey(e.task_id, e.seed), link);
      if (out === undefined || environment instanceof RestEnvironment || played.record === null) return;
      const report = buildEpisodeReport({ record: played.record, episodeId: e.episode_id });
      await writeReport(join(dirname(out), folderName, fileOf(e)), renderEpisodeReportHtml(report));
      hrefs.set(hrefKey(e.task_id, e.seed), `${folderName}/${fileOf(e)}`);
    },
    /** A resumed episode keeps the report an earlier run wrote. */
    async findExisting(e: EvalEpisode): Promise<void> {
      const link = serverLink(e);
      if (link !== null) hrefs.set(hrefKey(e.task_id, e.seed), link);
      if (out === undefined || environment instanceof RestEnvironment) return;
      try {
        await access(join(dirname(out), folderName, fileOf(e)));
        hrefs.set(hrefKey(e.task_id, e.seed), `${folderName}/${fileOf(e)}`);
      } catch {
        // No report from the earlier run: no link.
      }
    },
  };
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

export async function writeReport(path: string, html: string): Promise<void> {
  try {
    await writeFileAtomic(path, html);
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

