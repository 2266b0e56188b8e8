import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { AgentEnvironmentError, RestEnvironment, type RestAnswer } from '../layers/agent/src';
import { getTask, type ToolArguments, type ToolName } from '../layers/core/src';
import { renderEpisodeReportHtml } from '../layers/reports/src';
import { nextStepAfter, SmokeFailure } from './cloud-smoke-advice';
import { reportFromSaved } from './commands/report';

/**
 * The post-deploy smoke check of a deployed stack, as a sequence of checks over its REST API
 * (through RestEnvironment: retries with backoff that honour Retry-After, and 202 polling):
 * the task list, a short episode (create, configure, train, read, submit, the grade), the
 * tenant's usage, and the episode's HTML report rendered here. The first failed check ends it.
 */

/** The smoke episode: the smallest task and a fixed seed, so runs are comparable. */
export const SMOKE_TASK = 'easy_mnist';
export const SMOKE_SEED = 20_260_101;
/** Every other field takes its default (the core's configuration schema). */
const SMOKE_CONFIG: Partial<ToolArguments<'configure_training'>> = { optimizer: 'adam', learning_rate: 0.001, batch_size: 64 };

export const SMOKE_CHECKS = ['tasks', 'create episode', 'configure', 'train', 'read episode', 'submit', 'grade', 'usage', 'report'] as const;
export type SmokeCheckName = (typeof SMOKE_CHECKS)[number];

/** One check's outcome: what --json prints for it. */
export interface SmokeCheck {
  name: SmokeCheckName;
  ok: boolean;
  ms: number;
  detail: string;
  /** A failed check: what to do about it. */
  next_step?: string;
}

export interface SmokeOptions {
  /** The API's base URL (the ApiUrl output: it ends with the stage). */
  url: string;
  apiKey: string;
  /** Epochs the episode trains. */
  epochs: number;
  /** The longest wait for an asynchronous step, and for the grade. */
  waitMs: number;
  /** Where the HTML report goes; null: a temporary file named after the episode. */
  out: (episodeId: string) => string;
  /** Told each check as it ends. */
  onCheck: (check: SmokeCheck) => void;
  /** Progress while a check waits (polls, retries). */
  onProgress: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface SmokeOutcome {
  checks: SmokeCheck[];
  episode_id: string | null;
  report: string | null;
}

/** API Gateway gives up on an integration after 29 s; a request gets a little longer than that. */
const REQUEST_TIMEOUT_MS = 35_000;
const GRADE_FIRST_POLL_MS = 500;
const GRADE_MAX_POLL_MS = 10_000;

const tasksBody = z.object({ tasks: z.array(z.object({ task_id: z.string() }).loose()) }).loose();
const episodeBody = z
  .object({
    episode_id: z.string(),
    status: z.string(),
    record: z.object({ budget_used: z.number(), max_epochs: z.number().optional() }).loose(),
    usage: z.object({ steps: z.number(), epochs_trained: z.number(), training_seconds: z.number() }).loose(),
    grade: z.object({ score: z.number() }).loose().nullable(),
  })
  .loose();
const stepBody = z
  .object({
    step: z.number(),
    data: z.record(z.string(), z.unknown()),
    error: z.object({ code: z.string(), message: z.string() }).loose().nullable(),
    done: z.boolean(),
    grade: z.object({ score: z.number() }).loose().nullable(),
  })
  .loose();
const usageBody = z
  .object({
    episodes: z.number(),
    usage: z.object({ steps: z.number(), epochs_trained: z.number(), lambda_gb_seconds: z.number() }).loose(),
    estimated_cost: z.object({ total_usd: z.number() }).loose(),
  })
  .loose();

type StepBody = z.infer<typeof stepBody>;

/** The answer's body in the shape the smoke check reads, or a failure that says the URL is not this API. */
function parsed<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new SmokeFailure(
    `${what}: the answer is not the ml-trainer API's (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'unexpected shape'})`,
    'check --url: the ApiUrl output of the api stack, with its stage (…/prod/)',
  );
}

export async function runSmoke(options: SmokeOptions): Promise<SmokeOutcome> {
  return new SmokeRun(options).run();
}

class SmokeRun {
  private readonly api: RestEnvironment;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly checks: SmokeCheck[] = [];
  private episodeId: string | null = null;
  private stepNumber = 0;
  private episode: unknown = null;
  private report: string | null = null;

  constructor(private readonly options: SmokeOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.api = new RestEnvironment({
      url: options.url,
      apiKey: options.apiKey,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      // The smoke test prints its own next step (nextStepAfter); there is no in-process alternative to offer.
      unreachableAlternative: null,
      asyncStepTimeoutMs: options.waitMs,
      sleep: this.sleep,
      now: this.now,
      onRetry: ({ attempt, delayMs, reason }) => options.onProgress(`retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s: ${reason}`),
      onPending: ({ tool, step_id, status, elapsedMs }) =>
        options.onProgress(`${tool} (step ${step_id}) ${status} on the server, ${Math.round(elapsedMs / 1000)} s since it was sent`),
    });
  }

  async run(): Promise<SmokeOutcome> {
    const sequence: Array<[SmokeCheckName, () => Promise<string>]> = [
      ['tasks', () => this.listTasks()],
      ['create episode', () => this.createEpisode()],
      ['configure', () => this.configure()],
      ['train', () => this.train()],
      ['read episode', () => this.readEpisode()],
      ['submit', () => this.submit()],
      ['grade', () => this.waitForGrade()],
      ['usage', () => this.readUsage()],
      ['report', () => this.writeReport()],
    ];
    for (const [name, check] of sequence) {
      if (!(await this.check(name, check))) break;
    }
    return { checks: this.checks, episode_id: this.episodeId, report: this.report };
  }

  private async check(name: SmokeCheckName, body: () => Promise<string>): Promise<boolean> {
    const started = this.now();
    let result: SmokeCheck;
    try {
      const detail = await body();
      result = { name, ok: true, ms: this.now() - started, detail };
    } catch (error) {
      if (!(error instanceof AgentEnvironmentError || error instanceof SmokeFailure)) throw error;
      result = { name, ok: false, ms: this.now() - started, detail: error.message, next_step: nextStepAfter(name, error, this.options.url) };
    }
    this.checks.push(result);
    this.options.onCheck(result);
    return result.ok;
  }

  private async listTasks(): Promise<string> {
    const { tasks } = parsed(tasksBody, await this.api.request({ method: 'GET', path: '/v1/tasks' }), 'GET /v1/tasks');
    const ids = tasks.map((t) => t.task_id);
    if (!ids.includes(SMOKE_TASK)) throw new SmokeFailure(`GET /v1/tasks lists ${ids.join(', ') || 'no task'}, not ${SMOKE_TASK}`, 'deploy this version of the stacks (npx cdk deploy --all)');
    return `${ids.length} tasks: ${ids.join(', ')}`;
  }

  private async createEpisode(): Promise<string> {
    const body = await this.api.request({
      method: 'POST',
      path: '/v1/episodes',
      body: { task_id: SMOKE_TASK, seed: SMOKE_SEED },
      finalErrorCodes: ['episode_quota_exceeded'],
    });
    const episode = parsed(episodeBody, body, 'POST /v1/episodes');
    this.episodeId = episode.episode_id;
    const budget = episode.record.max_epochs ?? getTask(SMOKE_TASK).max_epochs;
    return `episode ${episode.episode_id} (${SMOKE_TASK}, seed ${SMOKE_SEED}, budget ${budget} epochs)`;
  }

  private async configure(): Promise<string> {
    const step = await this.step('configure_training', SMOKE_CONFIG);
    return `step ${step.step}: ${Object.entries(SMOKE_CONFIG)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ')}`;
  }

  private async train(): Promise<string> {
    const step = await this.step('run_epochs', { num_epochs: this.options.epochs });
    const data = step.data as Record<string, unknown>;
    if (data.epochs_just_trained !== this.options.epochs) {
      throw new SmokeFailure(`run_epochs trained ${String(data.epochs_just_trained)} epochs, not ${this.options.epochs}`, 'read the training function\'s log group in CloudWatch Logs');
    }
    const metric = (name: string) => (typeof data[name] === 'number' ? (data[name] as number).toFixed(4) : 'n/a');
    return `step ${step.step}: ${this.options.epochs} epochs, train_loss ${metric('train_loss')}, val_accuracy ${metric('val_accuracy')}`;
  }

  private async readEpisode(): Promise<string> {
    const episode = parsed(episodeBody, await this.api.request({ method: 'GET', path: this.episodePath() }), `GET ${this.episodePath()}`);
    if (episode.status !== 'active' || episode.record.budget_used !== this.options.epochs) {
      throw new SmokeFailure(
        `the stored episode is ${episode.status} with ${episode.record.budget_used} epochs used; expected active with ${this.options.epochs}`,
        'read the training function\'s log group in CloudWatch Logs (the step did not commit as answered)',
      );
    }
    return `${episode.status}, ${episode.usage.steps} steps, ${episode.usage.epochs_trained} epochs, ${episode.usage.training_seconds.toFixed(1)} training seconds`;
  }

  private async submit(): Promise<string> {
    const step = await this.step('submit_model', {});
    if (!step.done) throw new SmokeFailure(`submit_model answered done: false`, 'read the training function\'s log group in CloudWatch Logs');
    return `step ${step.step}: episode ended${step.grade ? `, score ${step.grade.score.toFixed(4)}` : ''}`;
  }

  /** The grade is written by the grade function after the episode ends: the episode is read until it has one. */
  private async waitForGrade(): Promise<string> {
    const started = this.now();
    let interval = GRADE_FIRST_POLL_MS;
    for (;;) {
      const body = await this.api.request({ method: 'GET', path: this.episodePath() });
      const episode = parsed(episodeBody, body, `GET ${this.episodePath()}`);
      if (episode.grade !== null) {
        this.episode = body;
        return `score ${episode.grade.score.toFixed(4)} (${episode.status})`;
      }
      const waited = this.now() - started;
      if (waited >= this.options.waitMs) {
        throw new SmokeFailure(
          `episode ${this.episodeId} has no grade ${Math.round(waited / 1000)} s after it ended`,
          "read the grade function's log group in CloudWatch Logs (the nightly batch run grades ended episodes too); or give a longer --wait",
        );
      }
      this.options.onProgress(`no grade yet after ${Math.round(waited / 1000)} s`);
      await this.sleep(Math.min(interval, this.options.waitMs - waited));
      interval = Math.min(GRADE_MAX_POLL_MS, interval * 2);
    }
  }

  private async readUsage(): Promise<string> {
    const report = parsed(usageBody, await this.api.request({ method: 'GET', path: '/v1/usage' }), 'GET /v1/usage');
    if (report.episodes < 1 || report.usage.steps < this.stepNumber) {
      throw new SmokeFailure(
        `GET /v1/usage counts ${report.episodes} episodes and ${report.usage.steps} steps, fewer than this check made`,
        "read the api and training functions' log groups (usage is metered by each step)",
      );
    }
    const u = report.usage;
    return `${report.episodes} episodes, ${u.steps} steps, ${u.epochs_trained} epochs, ${u.lambda_gb_seconds.toFixed(1)} Lambda GB-s, about $${report.estimated_cost.total_usd.toFixed(4)} (last 30 days)`;
  }

  private async writeReport(): Promise<string> {
    let html: string;
    try {
      html = renderEpisodeReportHtml(reportFromSaved(this.episode, `GET ${this.episodePath()}`).report);
    } catch (error) {
      throw new SmokeFailure(`the episode cannot be rendered: ${(error as Error).message}`, 'the API and this CLI are different versions: deploy the stacks from this checkout');
    }
    const path = this.options.out(this.episodeId!);
    try {
      await writeFile(path, html);
    } catch (error) {
      throw new SmokeFailure(`cannot write ${path}: ${(error as Error).message}`, 'give --out a writable file');
    }
    this.report = path;
    return `${path} (${Math.round(html.length / 1024)} KB)`;
  }

  private episodePath(): string {
    return `/v1/episodes/${encodeURIComponent(this.episodeId!)}`;
  }

  /** One tool call with a request_id (safe to retry); a 202 is polled until the step is done. */
  private async step(tool: ToolName, args: Record<string, unknown>): Promise<StepBody> {
    const requestId = this.api.requestId();
    const path = `${this.episodePath()}/steps`;
    const requestedAt = this.now();
    const answer: RestAnswer = await this.api.send({
      method: 'POST',
      path,
      body: { tool, arguments: args, request_id: requestId },
      requestId,
      finalErrorCodes: ['dataset_unavailable', 'step_failed', 'episode_quota_exceeded'],
    });
    const body =
      answer.status === 202
        ? await this.api.waitForStep(answer, { episodeId: this.episodeId!, step: this.stepNumber + 1, tool, requestedAt })
        : answer.body;
    const step = parsed(stepBody, body, `POST ${path}`);
    this.stepNumber = step.step;
    if (step.error !== null) {
      throw new SmokeFailure(`${tool} was rejected: ${step.error.code}: ${step.error.message}`, 'the API and this CLI are different versions: deploy the stacks from this checkout');
    }
    return step;
  }
}
