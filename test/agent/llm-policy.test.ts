import { describeTools, STEP_REASON_MAX_LENGTH } from '../../layers/core/src';
import { llmPolicy, NO_TEXT_REASON, UNPARSED_ARGUMENTS } from '../../layers/agent/src';
import { call, type ScriptedReply } from './helpers/fake-openai-server';
import { playLlmEpisode } from './helpers/play-llm';

describe('the llm policy', () => {
  it('sends the tools as JSON Schemas, the task and rules, the key and the temperature, and keeps the conversation', async () => {
    const { result, requests, notes } = await playLlmEpisode(
      [
        { content: 'I will use AdamW with dropout.', tool_calls: [call('configure_training', { optimizer: 'adamw', dropout: 0.3 })] },
        { tool_calls: [call('run_epochs', { num_epochs: 6 })] },
        { tool_calls: [call('submit_model')] },
      ],
      { temperature: 0.3 },
    );
    expect(result.grade).not.toBeNull();
    expect(requests).toHaveLength(3);
    const first = requests[0];
    expect(first.headers.authorization).toBe('Bearer sk-test');
    expect(first.body).toMatchObject({ model: 'fake-model', temperature: 0.3, tool_choice: 'auto' });
    expect(first.body.tools).toEqual(
      describeTools().map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.input_schema } })),
    );
    const [system, user] = first.body.messages;
    expect(system.role).toBe('system');
    expect(system.content).toContain('Fashion Item Classifier');
    expect(system.content).toContain('At most 15 tool calls');
    expect(system.content).toContain('0.4 * clamp(1 - gap / 0.12)');
    expect(user).toMatchObject({ role: 'user', content: expect.stringContaining('"remaining_budget":80') });

    // The third request carries the whole conversation: each call answered by its result.
    const messages = requests[2].body.messages;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'tool']);
    expect(messages[2].tool_calls![0]).toMatchObject({ id: 'call_0_0', function: { name: 'configure_training' } });
    expect(messages[3].tool_call_id).toBe('call_0_0');
    const runResult = JSON.parse(String(messages[5].content));
    expect(runResult).toMatchObject({ step: 2, steps_left: 13, done: false, result: { epochs_just_trained: 6, current_epoch: 6 } });
    expect(result.history[0].reason).toBe('I will use AdamW with dropout.');
    expect(notes).toContain('model: I will use AdamW with dropout.');
  });

  it('sends malformed arguments back without spending a step, then continues', async () => {
    const { result, requests } = await playLlmEpisode([
      { tool_calls: [call('configure_training', {})] },
      { tool_calls: [{ name: 'run_epochs', arguments: '{"num_epochs": 5' }] },
      { tool_calls: [call('run_epochs', { num_epochs: 5 })] },
      { tool_calls: [call('submit_model')] },
    ]);
    expect(result.history.map((s) => s.call.tool)).toEqual(['configure_training', 'run_epochs', 'submit_model']);
    expect(result.history.every((s) => s.outcome.error === null)).toBe(true);
    expect(result.steps).toBe(3);
    const repair = requests[2].body.messages.at(-1)!;
    expect(repair).toMatchObject({ role: 'tool', tool_call_id: 'call_1_0' });
    expect(String(repair.content)).toMatch(/not a JSON object .*no step was used/);
  });

  it('nudges a model that answers without a tool call', async () => {
    const { result, requests } = await playLlmEpisode([
      { tool_calls: [call('configure_training', {})] },
      { content: 'Let me think about the learning rate first.' },
      { tool_calls: [call('submit_model')] },
    ]);
    expect(result.steps).toBe(2);
    expect(requests[2].body.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('14 of 15 tool calls left') });
    expect(requests[2].body.messages.at(-2)).toMatchObject({ role: 'assistant', content: 'Let me think about the learning rate first.' });
  });

  it('bounds the repairs: malformed arguments then cost a step, and a model that stops calling tools gets the episode submitted', async () => {
    const { result, requests } = await playLlmEpisode(
      [
        { tool_calls: [{ name: 'configure_training', arguments: 'not json' }] },
        { tool_calls: [{ name: 'configure_training', arguments: '[1, 2]' }] },
        { tool_calls: [call('configure_training', {})] },
        { content: 'Done.' },
        { content: 'Really done.' },
      ],
      { maxRepairsPerTurn: 1 },
    );
    const steps = result.history;
    expect(steps[0].call).toEqual({ tool: 'configure_training', arguments: { [UNPARSED_ARGUMENTS]: '[1, 2]' } });
    expect(steps[0].outcome.error).toMatchObject({ code: 'invalid_arguments' });
    expect(steps[1].call.tool).toBe('configure_training');
    expect(steps[2]).toMatchObject({ call: { tool: 'submit_model' }, reason: expect.stringContaining('stopped calling tools') });
    expect(result.status).toBe('submitted');
    expect(requests).toHaveLength(5);
    const rejected = requests[2].body.messages.find((m) => m.role === 'tool' && m.tool_call_id === 'call_1_0');
    expect(String(rejected!.content)).toContain('used a step');
  });

  it('plays the calls of one answer in order and drops the rest after an error', async () => {
    const { result, requests } = await playLlmEpisode([
      { tool_calls: [call('configure_training', {}), call('run_epochs', { num_epochs: 3 }), call('run_epochs', { num_epochs: 2 })] },
      { tool_calls: [call('adjust_learning_rate', { new_lr: -1 }), call('run_epochs', { num_epochs: 3 })] },
      { tool_calls: [call('submit_model')] },
    ]);
    expect(result.history.map((s) => s.call.tool)).toEqual(['configure_training', 'run_epochs', 'run_epochs', 'adjust_learning_rate', 'submit_model']);
    expect(result.epochs_used).toBe(5);
    expect(requests).toHaveLength(3);
    const last = requests[2].body.messages;
    const dropped = last.find((m) => m.role === 'tool' && m.tool_call_id === 'call_1_1');
    expect(String(dropped!.content)).toContain('not executed: the previous call of this turn failed');
    // Every tool call of every answer has its answer before the next request.
    const ids = last.flatMap((m) => (m.tool_calls ?? []).map((c) => c.id));
    const answered = last.filter((m) => m.role === 'tool').map((m) => m.tool_call_id);
    expect(answered).toEqual(ids);
  });

  it('stops at the step limit: the 15th call auto-submits and the model is not asked again', async () => {
    const script: ScriptedReply[] = [{ tool_calls: [call('configure_training', {})] }];
    for (let i = 0; i < 20; i++) script.push({ tool_calls: [call('get_training_status')] });
    const { result, requests } = await playLlmEpisode(script, {}, 'easy_mnist');
    expect(result.steps).toBe(15);
    expect(result.status).toBe('auto_submitted');
    expect(requests).toHaveLength(15);
  });

  it('stores each call with its reason: the model text, bounded, or a note when it sent none', async () => {
    const long = `Start with AdamW.\u0007 ${'x'.repeat(1200)}`;
    const { result, record } = await playLlmEpisode([
      { content: long, tool_calls: [call('configure_training', { optimizer: 'adamw' })] },
      { tool_calls: [call('run_epochs', { num_epochs: 5 })] },
      { content: 'Good enough.\nSubmitting.', tool_calls: [call('submit_model')] },
    ]);
    const reasons = result.history.map((s) => s.reason);
    expect(reasons[0]).toHaveLength(STEP_REASON_MAX_LENGTH);
    expect(reasons[0]).toMatch(/^Start with AdamW\. x+…$/);
    expect(reasons.slice(1)).toEqual([NO_TEXT_REASON, 'Good enough.\nSubmitting.']);
    expect(record.steps.map((s) => s.reason)).toEqual(reasons);
  });

  it('counts requests and tokens from the responses, and the episode is labelled with the model', async () => {
    const { result } = await playLlmEpisode([
      { tool_calls: [call('configure_training', {})], usage: { prompt_tokens: 100, completion_tokens: 20 } },
      { content: 'Thinking.', usage: { prompt_tokens: 150, completion_tokens: 3 } },
      { tool_calls: [call('run_epochs', { num_epochs: 2 })], usage: { prompt_tokens: 200, completion_tokens: 7 } },
      { tool_calls: [call('submit_model')], usage: { prompt_tokens: 300, completion_tokens: 4 } },
    ]);
    expect(result.model_usage).toEqual({ model: 'fake-model', requests: 4, retries: 0, prompt_tokens: 750, completion_tokens: 34 });
    expect(result.agent).toEqual({ policy: 'llm', model: 'fake-model' });
    expect(llmPolicy({ model: 'm-2', baseURL: 'http://127.0.0.1:9/v1' }).model).toBe('m-2');
  });

  it('executes several calls of one message in order, answers each by its tool_call_id and drops none', async () => {
    const { result, requests } = await playLlmEpisode([
      {
        content: 'Configure, then train twice.',
        tool_calls: [call('configure_training', {}), call('run_epochs', { num_epochs: 3 }), call('run_epochs', { num_epochs: 2 })],
      },
      { tool_calls: [call('submit_model')] },
    ]);
    expect(result.history.map((s) => [s.call.tool, s.call.arguments])).toEqual([
      ['configure_training', {}],
      ['run_epochs', { num_epochs: 3 }],
      ['run_epochs', { num_epochs: 2 }],
      ['submit_model', {}],
    ]);
    expect(result.epochs_used).toBe(5);
    expect(result.history[1].reason).toBe('call 2 of 3 of one answer: Configure, then train twice.');
    const messages = requests[1].body.messages;
    expect(messages.slice(2).map((m) => m.role)).toEqual(['assistant', 'tool', 'tool', 'tool']);
    expect(messages.slice(3).map((m) => m.tool_call_id)).toEqual(['call_0_0', 'call_0_1', 'call_0_2']);
    expect(JSON.parse(String(messages[5].content))).toMatchObject({ step: 3, result: { epochs_just_trained: 2, current_epoch: 5 } });
  });

  it('treats a refusal like a text-only answer: nudged, then the episode is submitted for the model with its words', async () => {
    const { result, requests, notes } = await playLlmEpisode(
      [
        { tool_calls: [call('configure_training', {})] },
        { refusal: 'I cannot help with that.' },
        { tool_calls: [call('run_epochs', { num_epochs: 2 })] },
        { refusal: 'I cannot help with that.' },
        { refusal: 'Still no.' },
      ],
      { maxRepairsPerTurn: 1 },
    );
    expect(result.history.map((s) => s.call.tool)).toEqual(['configure_training', 'run_epochs', 'submit_model']);
    expect(result.status).toBe('submitted');
    expect(result.history[2].reason).toBe('the model stopped calling tools: submitting for it. Its last words: Still no.');
    expect(requests).toHaveLength(5);
    expect(requests[2].body.messages.slice(-2)).toEqual([
      { role: 'assistant', content: 'I cannot help with that.' },
      { role: 'user', content: expect.stringContaining('Reply with a tool call, not text: 14 of 15 tool calls left.') },
    ]);
    expect(notes).toContain('model refused: I cannot help with that.');
  });
});
