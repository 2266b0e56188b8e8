import fc from 'fast-check';
import { clip, forgetStoredState, httpOutcome, jsonRpcVerdict, openEnvErrorShape, restCommittedStep, restErrorShape, serverCase } from './hostile-case';
import { hostileHeaders, hostileQuery, hostileSegment, httpMethod } from './hostile-http';
import { hostileBodyText, hostileFieldBodyText, type HostileValue } from './hostile-json';
import { hostileServerForSuite, rawHttp, type RawAnswer } from './server-process';
import { countsReport, holds, settings } from './tally';

/*
 * The local server's HTTP interfaces under hostile input (issue 12 item 10): every answer a
 * 4xx in the interface's error shape (or a success), never a 5xx; the process answers its
 * health request after every case; a rejected call changes no stored episode or checkpoint.
 */

const env = hostileServerForSuite();
let episodeId = '';

beforeAll(async () => {
  const created = await rawHttp(env.server.base, { method: 'POST', path: '/v1/episodes', headers: { 'content-type': 'application/json' }, body: '{"task_id":"easy_mnist"}' });
  episodeId = created.json.episode_id;
  await rawHttp(env.server.base, { method: 'POST', path: `/v1/episodes/${episodeId}/steps`, headers: { 'content-type': 'application/json' }, body: '{"tool":"configure_training"}' });
  forgetStoredState();
}, 90_000);

afterAll(() => console.log(countsReport()));

function send(method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<RawAnswer> {
  const withBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
  return rawHttp(env.server.base, { method, path, headers: { ...(withBody ? { 'content-type': 'application/json' } : {}), ...headers }, ...(withBody ? { body } : {}) });
}

function describeRequest(method: string, path: string, headers: Record<string, string>, body: string | undefined): string {
  return `${method} ${clip(path, 120)} ${clip(JSON.stringify(headers), 160)} ${body === undefined ? '' : clip(body, 200)}`;
}

/** Who plays and why: the label and the reason each way in carries, mutated with the rest of the body. */
const agent = (): Record<string, HostileValue> => ({ policy: 'llm', model: 'gpt-4o-mini', version: 'v1' });
const createTemplate: Record<string, HostileValue> = { task_id: 'easy_mnist', seed: 7, agent: agent() };
const stepTemplate: Record<string, HostileValue> = { tool: 'run_epochs', arguments: { num_epochs: 1 }, request_id: 'hostile-1', reason: 'one more epoch' };

/** REST paths: the real routes with the suite's episode, hostile ids, unknown routes. */
const restPath = fc
  .tuple(
    fc.constantFrom('episodes', 'episode', 'episodeSteps', 'hostileEpisode', 'hostileSteps', 'stepPoll', 'tasks', 'tools', 'usage', 'unknown'),
    hostileSegment,
    hostileQuery,
  )
  .map(([route, segment, query]) => {
    const id = episodeId;
    const paths: Record<string, string> = {
      episodes: '/v1/episodes',
      episode: `/v1/episodes/${id}`,
      episodeSteps: `/v1/episodes/${id}/steps`,
      hostileEpisode: `/v1/episodes/${segment}`,
      hostileSteps: `/v1/episodes/${segment}/steps`,
      stepPoll: `/v1/episodes/${id}/steps/${segment}`,
      tasks: '/v1/tasks',
      tools: '/v1/tools',
      usage: '/v1/usage',
      unknown: `/v1/${segment}`,
    };
    return { route, path: `${paths[route]}${query}` };
  });

describe('hostile input: local server, HTTP interfaces', () => {
  it('REST /v1: methods × paths × query strings × headers × bodies', async () => {
    await holds(
      fc.asyncProperty(
        httpMethod,
        restPath,
        hostileHeaders,
        fc.option(
          fc.oneof(hostileBodyText(createTemplate), hostileBodyText(stepTemplate), hostileFieldBodyText(createTemplate, ['agent']), hostileFieldBodyText(stepTemplate, ['reason'])),
          { nil: undefined },
        ),
        async (method, { path }, headers, body) => {
          await serverCase('REST /v1', env, async () => {
            const answer = await send(method, path, headers, body);
            return httpOutcome(describeRequest(method, path, headers, body), answer, method === 'HEAD' ? () => undefined : restErrorShape, restCommittedStep(answer));
          });
        },
      ),
      settings(250),
      // Found with HOSTILE_SEED=3: a refused HEAD (headers over 16 KiB) was answered with a body.
      [['HEAD', { route: 'episodes', path: `/v1/episodes?q=${'x'.repeat(10_000)}` }, { 'x-large': 'h'.repeat(9_000) }, undefined]],
    );
  });

  it('OpenEnv HTTP /reset, /step, /state', async () => {
    const resetTemplate: Record<string, HostileValue> = { seed: 3, task_id: 'easy_mnist', episode_id: 'hostile-episode', agent: agent() };
    const stepBody = (): Record<string, HostileValue> => ({
      action: { type: 'call_tool', tool_name: 'get_training_status', arguments: {}, reason: 'look first', metadata: { reason: 'look first' } },
      episode_id: episodeId,
      request_id: 'hostile-2',
      timeout_s: 30,
    });
    const request = fc.oneof(
      hostileBodyText(resetTemplate).map((body) => ({ method: 'POST', path: '/reset', body })),
      hostileFieldBodyText(resetTemplate, ['agent']).map((body) => ({ method: 'POST', path: '/reset', body })),
      fc.constant(null).chain(() => hostileBodyText(stepBody())).map((body) => ({ method: 'POST', path: '/step', body })),
      fc.constant(null).chain(() => fc.oneof(hostileFieldBodyText(stepBody(), ['action', 'reason']), hostileFieldBodyText(stepBody(), ['action', 'metadata', 'reason']))).map((body) => ({ method: 'POST', path: '/step', body })),
      fc.tuple(hostileSegment, hostileQuery).map(([segment, query]) => ({ method: 'GET', path: query === '' ? `/state?episode_id=${segment}` : `/state${query}`, body: undefined })),
    );
    await holds(
      fc.asyncProperty(request, hostileHeaders, async ({ method, path, body }, headers) => {
        await serverCase('OpenEnv HTTP', env, async () => {
          const answer = await send(method, path, headers, body);
          return httpOutcome(describeRequest(method, path, headers, body), answer, openEnvErrorShape);
        });
      }),
      settings(250),
    );
  });

  it('JSON-RPC POST /mcp: every method with hostile params, any body, any content type', async () => {
    const templates = (): Record<string, HostileValue>[] => [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { session_id: episodeId, name: 'get_training_status', arguments: {}, _meta: { reason: 'look first' } } },
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { session_id: episodeId } },
      { jsonrpc: '2.0', id: 3, method: 'openenv/session/create', params: { task_id: 'easy_mnist', seed: 1, agent: agent() } },
      { jsonrpc: '2.0', id: 4, method: 'openenv/session/close', params: { session_id: episodeId } },
      { jsonrpc: '2.0', id: 5, method: 'initialize', params: {} },
    ];
    const body = fc.constant(null).chain(() =>
      fc.oneof(
        ...templates().map(hostileBodyText),
        hostileFieldBodyText(templates()[0]!, ['params', '_meta', 'reason']),
        hostileFieldBodyText(templates()[2]!, ['params', 'agent']),
      ),
    );
    await holds(
      fc.asyncProperty(body, hostileHeaders, async (text, headers) => {
        await serverCase('JSON-RPC /mcp', env, async () => {
          const answer = await send('POST', '/mcp', headers, text);
          const summary = `${describeRequest('POST', '/mcp', headers, text)} → ${answer.status} ${clip(answer.text, 300)}`;
          if (answer.status === -1) return null;
          if (answer.status >= 500) return { verdict: 'server_error', summary };
          if (answer.status === 0) return { verdict: 'rejected', badShape: `no HTTP answer (${answer.error})`, summary };
          return jsonRpcVerdict(answer.json, summary);
        });
      }),
      settings(250),
    );
  });

  it('standard MCP /mcp/v1: hostile messages inside and outside a session', async () => {
    const init = await rawHttp(env.server.base, {
      method: 'POST',
      path: '/mcp/v1',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'hostile', version: '1' } } }),
    });
    const sessionId = String(init.headers['mcp-session-id']);
    forgetStoredState();
    await rawHttp(env.server.base, {
      method: 'POST',
      path: '/mcp/v1',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    const templates: Record<string, HostileValue>[] = [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_training_status', arguments: {}, _meta: { reason: 'look first' } } },
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'start_episode', arguments: { task_id: 'easy_mnist', seed: 1, agent: agent() } } },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } },
    ];
    const session = fc.constantFrom(sessionId, sessionId, sessionId, '', 'not-a-session', 'x'.repeat(300));
    await holds(
      fc.asyncProperty(fc.oneof(...templates.map(hostileBodyText), hostileFieldBodyText(templates[0]!, ['params', '_meta', 'reason']), hostileFieldBodyText(templates[2]!, ['params', 'arguments', 'agent'])), session, hostileHeaders, fc.constantFrom('POST', 'POST', 'POST', 'GET', 'DELETE'), async (text, sid, headers, method) => {
        await serverCase('MCP /mcp/v1', env, async () => {
          const allHeaders = { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...headers, ...(sid === '' ? {} : { 'mcp-session-id': sid }) };
          // A GET (the server-to-client stream) or DELETE (ends the session) of the live session would hang or end it: only hostile ids for those.
          if (method !== 'POST' && sid === sessionId) return null;
          const answer = await rawHttp(env.server.base, { method, path: '/mcp/v1', headers: { 'content-type': 'application/json', ...allHeaders }, ...(method === 'POST' ? { body: text } : {}), timeoutMs: 15_000 });
          const summary = `${describeRequest(method, '/mcp/v1', allHeaders, text)} → ${answer.status || answer.error} ${clip(answer.text, 300)}`;
          if (answer.status === -1) return null;
          if (answer.status >= 500) return { verdict: 'server_error', summary };
          if (answer.status === 0) return { verdict: 'rejected', badShape: `no HTTP answer (${answer.error})`, summary };
          if (answer.status >= 400) return { ...jsonRpcVerdict(answer.json, summary), verdict: 'rejected' };
          if (answer.status === 202 || answer.text === '') return { verdict: 'accepted', summary };
          const messages = sseMessages(answer.text);
          const verdicts = messages.map((m) => jsonRpcVerdict(m, summary));
          return verdicts.find((v) => v.verdict === 'server_error') ?? verdicts.find((v) => v.verdict === 'rejected') ?? { verdict: 'accepted', summary };
        });
      }),
      settings(200),
      // Found with HOSTILE_SEED=777: tools/call without params was answered -32603 Internal error.
      [['{"jsonrpc":"2.0","id":1,"method":"tools/call"}', sessionId, {}, 'POST']],
    );
  });
});

/** The JSON-RPC messages of a response: a JSON body, or the data lines of an event stream. */
function sseMessages(text: string): unknown[] {
  const direct = (() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  })();
  if (direct !== undefined) return Array.isArray(direct) ? direct : [direct];
  return text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)) as unknown);
}
