import { formulaTrainerFactory } from '../../layers/testing/src';
import { InProcessEnvironment, LlmApiError, llmPolicy, playEpisode } from '../../layers/agent/src';
import { call, FakeOpenAiServer, type ScriptedReply } from './helpers/fake-openai-server';
import { playLlmEpisode } from './helpers/play-llm';

const configure = { tool_calls: [call('configure_training', {})] };
const train = { tool_calls: [call('run_epochs', { num_epochs: 3 })] };
const submit = { tool_calls: [call('submit_model')] };
const contextFull: ScriptedReply = {
  status: 400,
  error: { code: 'context_length_exceeded', type: 'invalid_request_error', message: "This model's maximum context length is 8192 tokens." },
};

describe('the llm policy against a failing chat API', () => {
  it('waits what Retry-After asks after a 429, then goes on; the retry is counted', async () => {
    const { result, requests, notes } = await playLlmEpisode([configure, { status: 429, headers: { 'retry-after': '1' } }, train, submit], { maxRetries: 2 });
    expect(result.status).toBe('submitted');
    expect(result.model_usage).toMatchObject({ requests: 3, retries: 1 });
    // The SDK's own first backoff is at most 0.5 s: a wait of a second is Retry-After's.
    expect(requests[2].receivedAt - requests[1].receivedAt).toBeGreaterThanOrEqual(1000);
    expect(requests[2].headers['x-stainless-retry-count']).toBe('1');
    expect(notes).toContain('chat API answered 429; retrying (1 of 2)');
  });

  it('backs off after 500 twice and a dropped connection, then succeeds; the same request is sent each time', async () => {
    const { result, requests, notes } = await playLlmEpisode(
      [configure, { status: 500 }, { status: 500, headers: { 'retry-after-ms': '10' } }, { hangUp: true }, train, submit],
      { maxRetries: 3 },
    );
    expect(result.history.map((s) => s.call.tool)).toEqual(['configure_training', 'run_epochs', 'submit_model']);
    expect(result.model_usage).toMatchObject({ requests: 3, retries: 3 });
    expect(requests.slice(2, 5).map((r) => r.body)).toEqual([requests[1].body, requests[1].body, requests[1].body]);
    // Without Retry-After the SDK backs off: its first wait is at least 0.375 s (0.5 s less 25 % jitter).
    expect(requests[2].receivedAt - requests[1].receivedAt).toBeGreaterThanOrEqual(375);
    expect(notes.filter((n) => n.startsWith('chat API'))).toEqual([
      'chat API answered 500; retrying (1 of 3)',
      'chat API answered 500; retrying (2 of 3)',
      expect.stringMatching(/^chat API unreachable \(.+\); retrying \(3 of 3\)$/),
    ]);
  });

  it('does not retry a 401 and says which key to check', async () => {
    const error = await playLlmEpisode([{ status: 401, error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }], { maxRetries: 3 }).catch((e) => e);
    expect(error).toBeInstanceOf(LlmApiError);
    expect(error).toMatchObject({ status: 401, attempts: 1 });
    expect(error.message).toBe(
      'the chat API answered 401: Incorrect API key provided (1 attempt); the key was refused: check OPENAI_API_KEY (and OPENAI_BASE_URL), then run again',
    );
  });

  it('gives up after the retries with the status and the next step', async () => {
    const error = await playLlmEpisode([configure, { status: 429, headers: { 'retry-after-ms': '1' } }, { status: 429, headers: { 'retry-after-ms': '1' } }], {
      maxRetries: 1,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(LlmApiError);
    expect(error).toMatchObject({ status: 429, attempts: 2, usage: { model: 'fake-model', requests: 2, retries: 1, prompt_tokens: 10, completion_tokens: 5 } });
    expect(error.message).toMatch(/^the chat API answered 429: scripted failure 429 \(2 attempts\); rate limited or out of quota: .*--llm-retries/);
  });

  it('names the endpoint to check when it cannot be reached at all', async () => {
    const gone = new FakeOpenAiServer([]);
    const baseURL = await gone.start();
    await gone.stop();
    const error = await playEpisode({
      environment: new InProcessEnvironment(formulaTrainerFactory),
      policy: llmPolicy({ model: 'fake-model', baseURL, maxRetries: 1 }),
      taskId: 'easy_mnist',
    }).catch((e) => e);
    expect(error).toBeInstanceOf(LlmApiError);
    expect(error).toMatchObject({ status: undefined, attempts: 2, usage: { requests: 1, retries: 1 } });
    expect(error.message).toMatch(/^the chat API could not be reached \(2 attempts: .+\); check OPENAI_BASE_URL and the network, then run again$/);
  });

  it('drops the older turns of a conversation over the context window, keeping the system prompt and the latest result, and goes on', async () => {
    const { result, requests, notes } = await playLlmEpisode([configure, train, contextFull, train, submit]);
    expect(result.history.map((s) => s.call.tool)).toEqual(['configure_training', 'run_epochs', 'run_epochs', 'submit_model']);
    expect(result.model_usage).toMatchObject({ requests: 5, retries: 0 });
    const [system, digest, ...rest] = requests[3].body.messages;
    expect(system).toEqual(requests[0].body.messages[0]);
    expect(rest).toEqual([]);
    const text = String(digest.content);
    expect(digest.role).toBe('user');
    expect(text).toContain('step 1 configure_training {}\nstep 2 run_epochs {"num_epochs":3}\n');
    const latest = JSON.parse(text.split('The latest result:\n')[1].split('\n')[0]);
    expect(latest).toMatchObject({ step: 2, steps_left: 13, result: { current_epoch: 3 } });
    expect(text).toMatch(/13 of 15 tool calls left\. Make your next call\.$/);
    // The conversation grows again from the digest.
    expect(requests[4].body.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(notes).toContain('the conversation outgrew the context window of fake-model: older turns dropped, asking again');
  });

  it('submits, saying why, when the conversation still does not fit', async () => {
    const { result, requests } = await playLlmEpisode([configure, train, contextFull, { ...contextFull, error: { message: 'maximum context length exceeded' } }]);
    expect(requests).toHaveLength(4);
    expect(result.status).toBe('submitted');
    expect(result.history.at(-1)).toMatchObject({
      call: { tool: 'submit_model' },
      reason: expect.stringMatching(/^the conversation no longer fits the context window of fake-model \(context_length_exceeded\), even with the older turns dropped/),
    });
    expect(result.grade).not.toBeNull();
  });
});
