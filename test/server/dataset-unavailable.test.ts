import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import WebSocket from 'ws';
import { StoredEpisodeService } from '../../layers/episodes/src';
import { datasetTrainerFactory } from '../../layers/runtime/src';
import { startLocalRuntime, type LocalRuntime } from '../../layers/storage/src/local-runtime';
import { startLoopbackServer, type LoopbackServer } from '../datasets/helpers/loopback-server';
import { openSse } from '../reports/sse-client';
import { http, startServer, type RunningServer } from './harness';

/**
 * Issue 12, row 6: the server without datasets (an empty data folder, downloads answered 404
 * by a loopback server) answers dataset_unavailable on every interface, naming the dataset,
 * the folder and the remedy; it tries the download once per backoff window, logs one line
 * per failed attempt, and the dashboard shows the failed step.
 */
describe('a server whose dataset is missing and cannot be downloaded', () => {
  let mirror: LoopbackServer;
  let runtime: LocalRuntime;
  let server: RunningServer;
  let dataDir: string;
  const warnings: string[] = [];

  beforeAll(async () => {
    mirror = await startLoopbackServer();
    dataDir = mkdtempSync(join(tmpdir(), 'mlt-no-datasets-'));
    runtime = await startLocalRuntime();
    const trainers = datasetTrainerFactory({
      dataDir,
      allowUnverified: false,
      autoFetch: true,
      fetchBaseUrl: `${mirror.baseUrl}/mnist/`,
      inProcessOnly: true,
      onWarning: (message) => warnings.push(message),
    });
    const service = new StoredEpisodeService({ episodes: runtime.episodes, checkpoints: runtime.checkpoints, trainers, logger: { warn: () => undefined } });
    server = await startServer({ service });
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.close();
    await mirror?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const expectUnavailable = (message: string) => {
    expect(message).toContain('mnist');
    expect(message).toContain(dataDir);
    expect(message).toContain('ml-trainer datasets fetch --dataset mnist');
    expect(message).toContain('--data-dir');
    expect(message).toMatch(/next download attempt is at \d{4}-\d\d-\d\dT/);
  };

  async function newEpisode(): Promise<string> {
    const created = await http('POST', `${server.base}/v1/episodes`, { task_id: 'easy_mnist' });
    expect(created.status).toBe(201);
    const id = created.json.episode_id as string;
    const configured = await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: 'configure_training', arguments: {} });
    expect(configured.status).toBe(200);
    return id;
  }

  it('REST: 503 dataset_unavailable with the dataset, the folder, the remedy and Retry-After; one download attempt for many requests', async () => {
    const id = await newEpisode();
    const first = await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: 'run_epochs', arguments: { num_epochs: 1 } });
    expect(first.status).toBe(503);
    expect(first.json.error).toMatchObject({ code: 'dataset_unavailable', details: { dataset: 'mnist', data_dir: dataDir } });
    expectUnavailable(first.json.error.message);
    const retryAfter = Number(first.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(30);
    const downloads = mirror.requests.length;
    expect(downloads).toBeGreaterThan(0);

    for (let i = 0; i < 5; i++) {
      const again = await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: 'run_epochs', arguments: { num_epochs: 1 } });
      expect([again.status, again.json.error.code]).toEqual([503, 'dataset_unavailable']);
    }
    expect(mirror.requests.length).toBe(downloads);
    // The log: one line for the attempt, one for its failure; none per refused request.
    expect(warnings.filter((w) => w.includes('could not be downloaded'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('downloading mnist'))).toHaveLength(1);
    const episode = await http('GET', `${server.base}/v1/episodes/${id}`);
    expect(episode.json).toMatchObject({ status: 'active', step_count: 1 });
  }, 60_000);

  it('OpenEnv HTTP, WebSocket /ws, JSON-RPC /mcp and standard MCP carry the same code and message', async () => {
    const reset = await http('POST', `${server.base}/reset`, { task_id: 'easy_mnist' });
    const sessionId = reset.json.observation.metadata.episode_id as string;
    const configured = await http('POST', `${server.base}/step`, { action: { tool_name: 'configure_training', arguments: {} }, episode_id: sessionId });
    expect(configured.status).toBe(200);
    const openEnv = await http('POST', `${server.base}/step`, { action: { tool_name: 'run_epochs', arguments: { num_epochs: 1 } }, episode_id: sessionId });
    expect(openEnv.status).toBe(503);
    expectUnavailable(openEnv.json.detail);
    expect(Number(openEnv.headers.get('retry-after'))).toBeGreaterThan(0);

    const rpc = await http('POST', `${server.base}/mcp`, {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'run_epochs', arguments: { num_epochs: 1 }, session_id: sessionId },
    });
    expect(rpc.json.error.data).toMatchObject({ code: 'dataset_unavailable', dataset: 'mnist', data_dir: dataDir });
    expectUnavailable(rpc.json.error.message);

    const ws = new WebSocket(`${server.wsBase}/ws`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const frames: any[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(String(data))));
    const next = async () => {
      const count = frames.length;
      while (frames.length === count) await new Promise((r) => setTimeout(r, 10));
      return frames[frames.length - 1];
    };
    ws.send(JSON.stringify({ type: 'reset', data: { task_id: 'easy_mnist' } }));
    await next();
    ws.send(JSON.stringify({ type: 'step', data: { tool_name: 'configure_training', arguments: {} } }));
    await next();
    ws.send(JSON.stringify({ type: 'step', data: { tool_name: 'run_epochs', arguments: { num_epochs: 1 } } }));
    const frame = await next();
    ws.close();
    expect(frame).toMatchObject({ type: 'error', data: { code: 'EXECUTION_ERROR', error_code: 'dataset_unavailable' } });
    expectUnavailable(frame.data.message);

    const client = new Client({ name: 'test-agent', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.base}/mcp/v1`));
    await client.connect(transport);
    try {
      await client.callTool({ name: 'start_episode', arguments: { task_id: 'easy_mnist' } });
      await client.callTool({ name: 'configure_training', arguments: {} });
      const result = (await client.callTool({ name: 'run_epochs', arguments: { num_epochs: 1 } })) as CallToolResult;
      expect(result.isError).toBe(true);
      const payload = result.structuredContent as any;
      expect(payload.error).toMatchObject({ code: 'dataset_unavailable', dataset: 'mnist', data_dir: dataDir });
      expectUnavailable(payload.error.message);
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
    expect(warnings.filter((w) => w.includes('could not be downloaded'))).toHaveLength(1);
  }, 60_000);

  it('the dashboard shows the failed step to a page opened after it, not an episode that looks merely running', async () => {
    const id = await newEpisode();
    await http('POST', `${server.base}/v1/episodes/${id}/steps`, { tool: 'run_epochs', arguments: { num_epochs: 1 } });
    const events = await openSse(`${server.base}/dashboard/events/${id}`);
    try {
      const ended = await events.waitFor('step_ended');
      expect(ended.data).toMatchObject({ episode_id: id, tool: 'run_epochs', ok: false, error_code: 'dataset_unavailable' });
      expect(ended.data.error_message).toContain(dataDir);
    } finally {
      events.close();
    }
  }, 60_000);
});
