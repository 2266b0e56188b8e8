import { PassThrough, Readable } from 'node:stream';
import { agentCommand, pendingProgressPrinter } from '../../cli/commands/agent';
import { UsageError } from '../../cli/command';
import { call, FakeOpenAiServer } from './helpers/fake-openai-server';
import { FakeRestServer } from './helpers/fake-rest-server';

async function runAgent(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await agentCommand.run(argv, { stdout, stderr, stdin: Readable.from(['']), env });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const jsonLines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l));

describe('ml-trainer agent', () => {
  it('plays the baseline in-process: one JSON line per step, then the summary; progress with epochs on stderr', async () => {
    const r = await runAgent(['--task', 'hard_cifar', '--policy', 'baseline', '--trainer', 'formula', '--json']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const summary = lines.at(-1);
    const steps = lines.slice(0, -1);
    expect(steps[0]).toMatchObject({ type: 'step', step: 1, tool: 'configure_training', arguments: { optimizer: 'adamw' }, error: null, done: false });
    expect(steps[1]).toMatchObject({ type: 'step', step: 2, tool: 'run_epochs', observation: { epochs_just_trained: 10 } });
    expect(steps.at(-1)).toMatchObject({ tool: 'submit_model', done: true, grade: { score: expect.any(Number) } });
    expect(summary).toMatchObject({
      type: 'summary',
      task_id: 'hard_cifar',
      seed: 456,
      policy: 'baseline',
      status: 'submitted',
      steps: steps.length,
      environment: 'in-process',
      grade: steps.at(-1).grade,
    });
    expect(summary.epochs_used).toBe(steps.at(-1).observation.max_epochs - steps.at(-1).observation.remaining_budget);
    expect(summary.history).toBeUndefined();
    expect(r.stderr.replace(/\s+/g, ' ')).toContain('episode local-1: hard_cifar, seed 456, policy baseline, in-process; budget 60 epochs in at most 15 steps');
    expect(r.stderr).toContain('epoch 10 (10/10)');
    expect(r.stderr).toMatch(/step {2}2 run_epochs num_epochs=10\n {5}reward/);
    expect(r.stderr).toContain('why: a first 10 epochs');
  });

  it('prints a human summary without --json', async () => {
    const r = await runAgent(['--task', 'medium_fashion', '--policy', 'random', '--seed', '5', '--policy-seed', '1', '--trainer', 'formula']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Grade: [\d.]+ = 0.6 × accuracy score/);
    expect(r.stdout).toContain('medium_fashion, seed 5, policy random');
    expect(r.stdout).toMatch(/total reward -?[\d.]+, \d+ steps, \d+\/80 epochs used/);
  });

  it('plays against a server with --url, sending the API key and tenant, showing epochs from the step results', async () => {
    const server = new FakeRestServer();
    const url = await server.start();
    try {
      const r = await runAgent(['--task', 'easy_mnist', '--policy', 'baseline', '--url', url, '--tenant', 't1', '--json'], { ML_TRAINER_API_KEY: 'key-1' });
      expect(r.code).toBe(0);
      const summary = jsonLines(r.stdout).at(-1);
      expect(summary).toMatchObject({ type: 'summary', episode_id: 'ep-1', environment: url, status: 'submitted' });
      expect(server.record('ep-1')!.grade).toEqual(summary.grade);
      expect(server.requests.every((q) => q.headers['x-api-key'] === 'key-1' && q.headers['x-tenant-id'] === 't1')).toBe(true);
      expect(r.stderr).toContain('(20 epochs trained; the last 10 shown)');
      expect(r.stderr).toMatch(/model epoch 20 {2}loss [\d.]+\/[\d.]+/);
    } finally {
      await server.stop();
    }
  });

  it('waits for steps the server runs asynchronously (202), with a progress line on stderr', async () => {
    const server = new FakeRestServer();
    const url = await server.start();
    server.asyncSteps = { tool: /^run_epochs$/, pendingPolls: 1, retryAfter: '0' };
    try {
      const r = await runAgent(['--task', 'easy_mnist', '--policy', 'baseline', '--url', url, '--json']);
      expect(r.code).toBe(0);
      expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'summary', status: 'submitted' });
      expect(server.requests.filter((q) => q.status === 202).length).toBeGreaterThanOrEqual(2);
      expect(r.stderr).toMatch(/^ {2}step 2 run_epochs: queued remotely… 0 s\n {2}step 2 run_epochs: training remotely… \d+ s\nstep {2}2 run_epochs /m);
    } finally {
      await server.stop();
    }
  });

  it('rewrites one progress line in place on a terminal and clears it before the next output', () => {
    const stream = new PassThrough();
    const written: string[] = [];
    stream.on('data', (c) => written.push(String(c)));
    Object.assign(stream, { isTTY: true });
    const progress = pendingProgressPrinter(stream);
    const info = { step: 4, tool: 'run_epochs', step_id: 's', deadline_at: null, poll: '/p' };
    progress.update({ ...info, status: 'pending', elapsedMs: 0 });
    progress.update({ ...info, status: 'running', elapsedMs: 35_400 });
    progress.end();
    progress.end();
    expect(written.join('')).toBe('\r\x1b[K  step 4 run_epochs: queued remotely… 0 s\r\x1b[K  step 4 run_epochs: training remotely… 35 s\r\x1b[K');

    // Not a terminal: a line per change of state, then one every 30 s.
    const lines: string[] = [];
    const plain = new PassThrough();
    plain.on('data', (c) => lines.push(String(c)));
    const logged = pendingProgressPrinter(plain);
    for (const elapsedMs of [0, 5_000, 10_000, 34_000, 36_000]) logged.update({ ...info, status: elapsedMs === 0 ? 'pending' : 'running', elapsedMs });
    expect(lines.join('')).toBe('  step 4 run_epochs: queued remotely… 0 s\n  step 4 run_epochs: training remotely… 5 s\n  step 4 run_epochs: training remotely… 36 s\n');
  });

  it('exits 2 with the server message when the server refuses the task, and 1 when it cannot be reached', async () => {
    const server = new FakeRestServer();
    const url = await server.start();
    const refused = await runAgent(['--task', 'nope', '--policy', 'baseline', '--url', url]);
    await server.stop();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('HTTP 400 unknown_task');
    const unreachable = await runAgent(['--task', 'easy_mnist', '--policy', 'baseline', '--url', url, '--retries', '2']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`ml-trainer agent: GET /v1/tools: nothing listens at ${url} (connection refused, ECONNREFUSED)`);
    expect(unreachable.stderr).toContain('ml-trainer serve');
  });

  it('plays the llm policy against OPENAI_BASE_URL with --model and --temperature', async () => {
    const fake = new FakeOpenAiServer([
      { content: 'Start with defaults.', tool_calls: [call('configure_training', {})] },
      { tool_calls: [call('run_epochs', { num_epochs: 4 })] },
      { tool_calls: [call('submit_model')] },
    ]);
    const baseURL = await fake.start();
    try {
      const r = await runAgent(['--task', 'easy_mnist', '--policy', 'llm', '--model', 'm-1', '--temperature', '0.2', '--trainer', 'formula', '--json'], {
        OPENAI_BASE_URL: baseURL,
        OPENAI_API_KEY: 'sk-x',
      });
      expect(r.code).toBe(0);
      const lines = jsonLines(r.stdout);
      expect(lines.map((l) => l.tool ?? l.type)).toEqual(['configure_training', 'run_epochs', 'submit_model', 'summary']);
      expect(lines[0].reason).toBe('Start with defaults.');
      expect(lines.at(-1)).toMatchObject({
        agent: { policy: 'llm', model: 'm-1' },
        model_usage: { model: 'm-1', requests: 3, retries: 0, prompt_tokens: 30, completion_tokens: 15 },
      });
      expect(fake.requests[0].body).toMatchObject({ model: 'm-1', temperature: 0.2 });
      expect(r.stderr).toContain('note: model: Start with defaults.');
    } finally {
      await fake.stop();
    }
  });

  it('retries the chat API as --llm-retries allows, shows the model usage in the summary, and names the status when it gives up', async () => {
    const busy = { status: 503, headers: { 'retry-after-ms': '1' } };
    const fake = new FakeOpenAiServer([busy, { tool_calls: [call('configure_training', {})] }, { tool_calls: [call('submit_model')] }, busy]);
    const baseURL = await fake.start();
    const env = { OPENAI_BASE_URL: baseURL };
    try {
      const played = await runAgent(['--task', 'easy_mnist', '--policy', 'llm', '--model', 'm-1', '--llm-retries', '1', '--trainer', 'formula'], env);
      expect(played.code).toBe(0);
      expect(played.stdout).toContain('  model m-1: 20 prompt + 10 completion tokens, 2 requests (1 retry)\n');
      expect(played.stderr).toContain('note: chat API answered 503; retrying (1 of 1)');
      const failed = await runAgent(['--task', 'easy_mnist', '--policy', 'llm', '--model', 'm-1', '--llm-retries', '0', '--trainer', 'formula'], env);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/ml-trainer agent: the chat API answered 503: scripted failure 503 \(1 attempt\); the endpoint kept failing: .*--llm-retries/);
    } finally {
      await fake.stop();
    }
  });

  it('prints its help', async () => {
    const r = await runAgent(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: ml-trainer agent --task <id> --policy');
    expect(agentCommand.help).toContain('--url <server>');
  });

  it('rejects bad options with a usage error', async () => {
    await expect(runAgent(['--policy', 'baseline'])).rejects.toThrow(new UsageError('--task <id> is required'));
    await expect(runAgent(['--task', 'easy_mnist'])).rejects.toThrow(UsageError);
    await expect(runAgent(['--task', 'easy_mnist', '--policy', 'genius'])).rejects.toThrow(/--policy must be one of baseline, random, llm, default/);
    await expect(runAgent(['--task', 'easy_mnist', '--policy', 'llm', '--trainer', 'formula'], { OPENAI_API_KEY: 'k' })).rejects.toThrow(/needs --model/);
    await expect(runAgent(['--task', 'easy_mnist', '--policy', 'llm', '--model', 'm'])).rejects.toThrow(/needs OPENAI_API_KEY/);
    await expect(
      runAgent(['--task', 'easy_mnist', '--policy', 'llm', '--model', 'm', '--temperature', 'hot'], { OPENAI_API_KEY: 'k' }),
    ).rejects.toThrow(/--temperature must be a number/);
    await expect(runAgent(['--task', 'easy_mnist', '--policy', 'llm', '--model', 'm', '--llm-retries', '11'], { OPENAI_API_KEY: 'k' })).rejects.toThrow(
      '--llm-retries must be an integer from 0 to 10, got "11"',
    );
    await expect(runAgent(['--task', 'easy_mnist', '--policy', 'baseline', '--url', 'ftp://x'])).rejects.toThrow(/--url: the server URL must be http/);
    await expect(runAgent(['--task', 'easy_mnist', '--policy', 'baseline', '--trainer', 'cuda'])).rejects.toThrow(/--trainer must be tfjs or formula/);
    await expect(runAgent(['--task', 'easy_mnist', '--policy', 'baseline', '--url', 'http://127.0.0.1:9', '--retries', '0'])).rejects.toThrow(/--retries must be/);
    await expect(runAgent(['--task', 'nope', '--policy', 'baseline', '--trainer', 'formula'])).rejects.toThrow(/Unknown task_id "nope"/);
  });
});
