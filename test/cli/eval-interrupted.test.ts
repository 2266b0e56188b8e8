import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli-harness';

/**
 * A chat endpoint whose every answer submits the episode (one request per episode), and
 * which stops answering after `answerFirst` requests while `hang` is set: an eval waiting on
 * it can be killed mid-episode at a known point.
 */
function submittingEndpoint(answerFirst: number) {
  let requests = 0;
  const state = { hang: true };
  const server: Server = createServer(async (req, res) => {
    for await (const _chunk of req) void _chunk;
    requests += 1;
    if (state.hang && requests > answerFirst) return; // never answered
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: `c${requests}`,
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: 'enough', tool_calls: [{ id: `t${requests}`, type: 'function', function: { name: 'submit_model', arguments: '{}' } }] } }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      }),
    );
  });
  return {
    state,
    async start(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    },
    async stop(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const episodeLines = (path: string): number => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.startsWith('{"type":"episode"')).length : 0);

describe('ml-trainer eval killed mid-way', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlt-eval-kill-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('started again with --resume keeps the finished episodes and plays the rest', async () => {
    const endpoint = submittingEndpoint(2);
    const base = await endpoint.start();
    const out = join(dir, 'eval.html');
    const args = ['eval', '--policy', 'llm', '--model', 'm', '--tasks', 'easy_mnist', '--seeds', '4', '--compare', 'none', '--trainer', 'formula', '--cache-dir', join(dir, 'cache'), '--out', out];
    const env = { ...process.env, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'k' };
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'run-cli.ts'), ...args], { env, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      // Two episodes finish; the third waits on the endpoint forever.
      const journal = `${out}.journal.jsonl`;
      for (let waited = 0; episodeLines(journal) < 2; waited += 100) {
        if (waited > 60_000) throw new Error('the eval did not finish two episodes within 60 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(episodeLines(journal)).toBe(2);

      endpoint.state.hang = false;
      const resumed = await runCli([...args, '--resume', '--json'], '', env);
      expect(resumed.code).toBe(0);
      expect(resumed.stderr.replace(/\s+/g, ' ')).toContain(`2 resumed from ${journal}`);
      expect(resumed.stderr).toMatch(/llm m: 2 done, 1 running, 1 queued: easy_mnist\/44 starting/);
      const lines = resumed.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.resumed).map((l) => l.seed)).toEqual([42, 43]);
      expect(lines.filter((l) => l.type === 'episode' && !l.resumed).map((l) => l.seed).sort()).toEqual([44, 45]);
      expect(lines.at(-1).totals).toMatchObject({ episodes: 4, played_now: 2, prompt_tokens: 40 });
      expect(episodeLines(journal)).toBe(4);
    } finally {
      await endpoint.stop();
    }
  }, 120_000);
});
