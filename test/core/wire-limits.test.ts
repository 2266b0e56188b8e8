import { ECHO_MAX_CHARS, echoInput, echoJson, echoText, isWithinJsonDepth, JSON_MAX_DEPTH, parseJsonWithLimits } from '../../layers/core/src';

const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('parseJsonWithLimits', () => {
  it('parses a document within the limits', () => {
    expect(parseJsonWithLimits(nested(JSON_MAX_DEPTH))).toEqual({ ok: true, value: expect.any(Object) });
  });

  it('refuses nesting one level deeper than the limit, objects and arrays alike', () => {
    expect(parseJsonWithLimits(nested(JSON_MAX_DEPTH + 1))).toMatchObject({ ok: false, problem: 'too_deep' });
    expect(parseJsonWithLimits('['.repeat(JSON_MAX_DEPTH + 1) + ']'.repeat(JSON_MAX_DEPTH + 1))).toMatchObject({ ok: false, problem: 'too_deep' });
  });

  it('refuses a depth-100000 document without overflowing the stack', () => {
    expect(parseJsonWithLimits('['.repeat(100_000))).toMatchObject({ ok: false, problem: 'too_deep' });
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: '['.repeat(1000) + '\\"{{{' });
    expect(parseJsonWithLimits(text)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it('measures size in UTF-8 bytes', () => {
    expect(parseJsonWithLimits('"ééé"', { maxBytes: 7 })).toMatchObject({ ok: false, problem: 'too_large' });
    expect(parseJsonWithLimits('"ééé"', { maxBytes: 8 })).toEqual({ ok: true, value: 'ééé' });
  });

  it('reports invalid JSON as a value', () => {
    expect(parseJsonWithLimits('{"a":')).toMatchObject({ ok: false, problem: 'invalid_json' });
  });
});

describe('isWithinJsonDepth', () => {
  it('measures a parsed value iteratively, to any depth', () => {
    const nestedValue = (depth: number) => JSON.parse(nested(depth)) as unknown;
    expect(isWithinJsonDepth(nestedValue(JSON_MAX_DEPTH))).toBe(true);
    expect(isWithinJsonDepth(nestedValue(JSON_MAX_DEPTH + 1))).toBe(false);
    expect(isWithinJsonDepth([[1], { a: [] }], 3)).toBe(true);
    expect(isWithinJsonDepth([[1], { a: [] }], 2)).toBe(false);
    expect(isWithinJsonDepth('text', 0)).toBe(true);
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(isWithinJsonDepth(deep)).toBe(false);
  });
});

describe('echoed input', () => {
  it('keeps short input and cuts long text', () => {
    expect(echoText('abc')).toBe('abc');
    expect(echoText('x'.repeat(10_000))).toHaveLength(ECHO_MAX_CHARS + 1);
    expect(echoInput({ a: [1, 2] })).toEqual({ a: [1, 2] });
  });

  it('describes a large or deeply nested value instead of repeating it', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(echoInput(deep)).toBe('{an object with 1 keys}');
    expect(echoInput(new Array(100_000).fill(0))).toBe('[an array of 100000 items]');
    expect(echoJson(deep).length).toBeLessThanOrEqual(ECHO_MAX_CHARS + 1);
    expect(echoJson({ a: 1 })).toBe('{"a":1}');
  });
});
