// What an agent reads when a tool call's arguments are refused (tool-arguments.ts), word for
// word, and the tool catalogue as JSON (describeTools): an agent corrects its call from these.
import { assertToolName, CoreError, describeTools, isToolName, parseToolArguments, TOOL_NAMES, type CoreErrorInfo } from '../../layers/core/src';

function refusal(call: () => unknown): CoreErrorInfo {
  try {
    call();
  } catch (error) {
    if (error instanceof CoreError) return error.toInfo();
    throw error;
  }
  throw new Error('expected a CoreError, got none');
}

describe('parseToolArguments refusals', () => {
  it('one unknown argument, naming the accepted ones', () => {
    expect(refusal(() => parseToolArguments('run_epochs', { x: 1 }))).toEqual({
      code: 'invalid_arguments',
      message: 'run_epochs: unknown argument "x" (accepted arguments: num_epochs).',
      field: 'x',
      allowed: ['num_epochs'],
    });
  });

  it('several unknown arguments to a tool that takes none; past five, an ellipsis', () => {
    expect(refusal(() => parseToolArguments('get_training_status', { a: 1, b: 2 }))).toEqual({
      code: 'invalid_arguments',
      message: 'get_training_status: unknown arguments "a", "b" (it takes no arguments).',
      field: 'a',
      allowed: [],
    });
    expect(refusal(() => parseToolArguments('submit_model', { a: 1, b: 2, c: 3, d: 4, e: 5 })).message).toBe(
      'submit_model: unknown arguments "a", "b", "c", "d", "e" (it takes no arguments).',
    );
    expect(refusal(() => parseToolArguments('submit_model', { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 })).message).toBe(
      'submit_model: unknown arguments "a", "b", "c", "d", "e", … (it takes no arguments).',
    );
  });

  it('a missing argument is "got nothing", with what it allows and its schema', () => {
    expect(refusal(() => parseToolArguments('adjust_learning_rate', {}))).toEqual({
      code: 'invalid_arguments',
      message: 'adjust_learning_rate: new_lr is invalid (got nothing); allowed: Learning rate: a finite number, > 0 and ≤ 10.',
      field: 'new_lr',
      allowed: { type: 'number', exclusiveMinimum: 0, maximum: 10, description: 'Learning rate: a finite number, > 0 and ≤ 10.' },
    });
  });

  it('quotes a value of up to 100 characters whole and a longer one cut, with its length', () => {
    const fits = 'y'.repeat(98); // 100 characters of JSON with its quotes
    expect(refusal(() => parseToolArguments('run_epochs', { num_epochs: fits })).message).toBe(
      `run_epochs: num_epochs is invalid (got "${fits}"); allowed: How many epochs to train: an integer, clamped to 1..20 and to the unspent budget.`,
    );
    const long = 'y'.repeat(99);
    expect(refusal(() => parseToolArguments('run_epochs', { num_epochs: long })).message).toBe(
      `run_epochs: num_epochs is invalid (got "${long}… (101 characters)); allowed: How many epochs to train: an integer, clamped to 1..20 and to the unspent budget.`,
    );
  });

  it('names each bad field, the first one as the field', () => {
    const info = refusal(() => parseToolArguments('configure_training', { dropout: 2, batch_size: 3 }));
    expect(info.field).toBe('batch_size');
    expect(info.message).toMatch(/^configure_training: batch_size is invalid \(got 3\); allowed: .+; dropout is invalid \(got 2\); allowed: .+\.$/);
  });

  it('arguments that are not an object say what they are', () => {
    expect(refusal(() => parseToolArguments('run_epochs', 5))).toEqual({
      code: 'invalid_arguments',
      message: 'run_epochs: arguments must be a JSON object, got number.',
    });
    expect(refusal(() => parseToolArguments('run_epochs', [1])).message).toBe('run_epochs: arguments must be a JSON object, got an array.');
  });

  it('no arguments (undefined or null) are the defaults', () => {
    expect(parseToolArguments('run_epochs', undefined)).toEqual({ num_epochs: 10 });
    expect(parseToolArguments('run_epochs', null)).toEqual({ num_epochs: 10 });
    expect(parseToolArguments('toggle_augmentation', {})).toEqual({ enabled: true, strength: 0.5 });
  });
});

describe('tool names', () => {
  it('an unknown tool lists the available ones', () => {
    expect(refusal(() => assertToolName(7))).toEqual({
      code: 'unknown_tool',
      message: `Unknown tool 7; available tools: ${TOOL_NAMES.join(', ')}.`,
      field: 'tool',
      allowed: [...TOOL_NAMES],
    });
  });

  it('only the catalogue own tools are tools, not inherited names', () => {
    expect(TOOL_NAMES.every(isToolName)).toBe(true);
    expect(isToolName('toString')).toBe(false);
    expect(isToolName('constructor')).toBe(false);
    expect(isToolName(undefined)).toBe(false);
    // A one-item array converts to its item as a property key: only a string is a tool name.
    expect(isToolName([TOOL_NAMES[0]])).toBe(false);
  });
});

describe('describeTools', () => {
  it('lists every tool in order, with a JSON Schema of its input and no $schema', () => {
    const tools = describeTools();
    expect(tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    for (const t of tools) {
      expect(t.input_schema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(t.input_schema).not.toHaveProperty('$schema');
      expect(t.description.length).toBeGreaterThan(20);
    }
  });

  it("drops zod's safe-integer bounds from integers, keeping real bounds", () => {
    const [configure, runEpochs] = describeTools();
    expect(runEpochs.input_schema.properties).toEqual({
      num_epochs: {
        default: 10,
        description: 'How many epochs to train: an integer, clamped to 1..20 and to the unspent budget.',
        type: 'integer',
      },
    });
    expect((configure.input_schema.properties as Record<string, unknown>).warmup_epochs).toEqual({
      default: 5,
      description: 'Warm-up epochs for warmup_cosine: an integer ≥ 0.',
      type: 'integer',
      minimum: 0,
    });
    expect((configure.input_schema.properties as Record<string, Record<string, unknown>>).dropout).toMatchObject({ minimum: 0, maximum: 0.9 });
  });

  it('describes every argument of every tool, so a refusal can always say what the argument allows', () => {
    for (const tool of describeTools()) {
      for (const [name, property] of Object.entries(tool.input_schema.properties as Record<string, Record<string, unknown>>)) {
        expect([tool.name, name, typeof property.description]).toEqual([tool.name, name, 'string']);
      }
    }
  });
});
