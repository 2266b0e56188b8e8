import {
  agentLabelKey,
  agentLabelSchema,
  boundedReason,
  CoreError,
  createEpisode,
  createEpisodeBodySchema,
  parseEpisodeRecord,
  STEP_REASON_MAX_LENGTH,
  stepBodySchema,
  UNLABELLED_AGENT,
} from '../../layers/core/src';
import { configure, play, run, submitCall } from './episode-helpers';

describe('agent label', () => {
  it('is stored in the record from the episode creation and survives a parse of the stored record', () => {
    const record = createEpisode('easy_mnist', 7, { policy: 'llm', model: 'gpt-4o-mini', version: 'prompt-3' });
    expect(record.agent).toEqual({ policy: 'llm', model: 'gpt-4o-mini', version: 'prompt-3' });
    expect(parseEpisodeRecord(JSON.parse(JSON.stringify(record))).agent).toEqual(record.agent);
  });

  it('is absent when none is given, and a stored record without one still parses (records written before labels)', () => {
    const record = createEpisode('easy_mnist');
    expect('agent' in record).toBe(false);
    expect(parseEpisodeRecord(record).agent).toBeUndefined();
  });

  it.each([
    [{ policy: '' }, 'agent.policy'],
    [{ policy: 'x'.repeat(65) }, 'agent.policy'],
    [{ policy: 'ok', model: 'a\u001b[31mred' }, 'agent.model'],
    [{ policy: 'ok', version: 'v\n2' }, 'agent.version'],
    [{ policy: 'ok', extra: 1 }, 'agent'],
    [{ model: 'm' }, 'agent.policy'],
  ])('refuses %j, naming the field', (label, field) => {
    let error: unknown;
    try {
      createEpisode('easy_mnist', undefined, label as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CoreError);
    expect((error as CoreError).code).toBe('invalid_arguments');
    expect((error as CoreError).detail.field).toBe(field);
    expect((error as CoreError).message).toContain('policy (1-64 chars)');
  });

  it('groups under one key per policy, model and version, and "unlabelled" for none', () => {
    expect(agentLabelKey({ policy: 'baseline' })).toBe('baseline');
    expect(agentLabelKey({ policy: 'llm', model: 'gpt-4o-mini', version: '3' })).toBe('llm gpt-4o-mini @3');
    expect(agentLabelKey(undefined)).toBe(UNLABELLED_AGENT);
    expect(agentLabelKey(null)).toBe(UNLABELLED_AGENT);
  });

  it('is part of the create-episode wire body, strictly', () => {
    expect(createEpisodeBodySchema.safeParse({ task_id: 'easy_mnist', agent: { policy: 'baseline' } }).success).toBe(true);
    expect(createEpisodeBodySchema.safeParse({ task_id: 'easy_mnist', agent: 'baseline' }).success).toBe(false);
    expect(agentLabelSchema.safeParse({ policy: 'a', model: 'm'.repeat(129) }).success).toBe(false);
  });
});

describe('step reason', () => {
  it('is stored with the step that carried it, and only with that one', async () => {
    const { record } = await play('easy_mnist', [
      { ...configure({ learning_rate: 0.01 }), reason: 'Adam at 1e-2 suits a small MLP.' },
      run(2),
      { ...submitCall, reason: 'val accuracy is past the target' },
    ]);
    expect(record.steps.map((s) => s.reason)).toEqual(['Adam at 1e-2 suits a small MLP.', undefined, 'val accuracy is past the target']);
    expect(parseEpisodeRecord(JSON.parse(JSON.stringify(record))).steps[2].reason).toBe('val accuracy is past the target');
  });

  it('is bounded and cleaned when the core stores it from any caller (interfaces refuse over-long ones before)', async () => {
    const long = `${'why '.repeat(600)}\u0007`;
    const { record } = await play('easy_mnist', [{ ...configure(), reason: long }, { ...run(1), reason: '   ' }]);
    expect(record.steps[0].reason).toHaveLength(STEP_REASON_MAX_LENGTH);
    expect(record.steps[0].reason!.endsWith('…')).toBe(true);
    expect(record.steps[0].reason).not.toContain('\u0007');
    expect(record.steps[1].reason).toBeUndefined();
  });

  it('keeps newlines and tabs, drops other control characters', () => {
    expect(boundedReason('line 1\n\tline 2\u001b[0m')).toBe('line 1\n\tline 2[0m');
    expect(boundedReason(undefined)).toBeUndefined();
    expect(boundedReason('')).toBeUndefined();
  });

  it('keeps a reason of exactly the limit whole, trims it, and has none for null or blanks', () => {
    const full = 'r'.repeat(STEP_REASON_MAX_LENGTH);
    expect(boundedReason(full)).toBe(full);
    expect(boundedReason(` ${full}\u0007 `)).toBe(full);
    expect(boundedReason(`${full}s`)).toBe(`${'r'.repeat(STEP_REASON_MAX_LENGTH - 1)}…`);
    expect(boundedReason(null)).toBeUndefined();
    expect(boundedReason(' \n\t\u0007 ')).toBeUndefined();
  });

  it('keys a label by its parts present, the version marked with @', () => {
    expect(agentLabelKey({ policy: 'llm', version: 'v2' })).toBe('llm @v2');
    expect(agentLabelKey({ policy: 'llm', model: 'm' })).toBe('llm m');
  });

  it('is refused on the step wire body when over-long or carrying terminal escapes', () => {
    expect(stepBodySchema.safeParse({ tool: 'run_epochs', reason: 'fine\nreason' }).success).toBe(true);
    expect(stepBodySchema.safeParse({ tool: 'run_epochs', reason: 'x'.repeat(STEP_REASON_MAX_LENGTH + 1) }).success).toBe(false);
    expect(stepBodySchema.safeParse({ tool: 'run_epochs', reason: '\u001b[2J' }).success).toBe(false);
    expect(stepBodySchema.safeParse({ tool: 'run_epochs', reason: 42 }).success).toBe(false);
  });
});
