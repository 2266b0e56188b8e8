// The wire limits and the echo of a client's input at their exact edges: UTF-8 sizes of each
// range of code units, the refusal messages a client reads, nesting that closes before it
// opens again, and how much input an error may repeat.
import { ECHO_MAX_CHARS, echoInput, echoJson, echoText, isWithinJsonDepth, JSON_MAX_BYTES, parseJsonWithLimits } from '../../layers/core/src';

/** The JSON string literal of text is accepted at exactly its UTF-8 size and refused one byte below it. */
function expectUtf8Size(text: string, bytes: number): void {
  const json = JSON.stringify(text);
  expect(parseJsonWithLimits(json, { maxBytes: bytes + 2 })).toEqual({ ok: true, value: text });
  expect(parseJsonWithLimits(json, { maxBytes: bytes + 1 })).toEqual({
    ok: false,
    problem: 'too_large',
    message: `JSON is larger than the limit of ${bytes + 1} bytes.`,
  });
}

describe('parseJsonWithLimits at its edges', () => {
  it.each([
    ['\u007f', 1],
    ['\u0080', 2],
    ['\u07ff', 2],
    ['\u0800', 3],
    ['\ud7ff', 3],
    ['\u{1f600}', 4],
    // The first and last surrogate pairs: both of their code units sit on the surrogate range's edges.
    ['\u{10000}', 4],
    ['\u{10ffff}', 4],
    ['\ue000', 3],
    ['\uffff', 3],
  ])('counts %j as %i UTF-8 bytes', (text, bytes) => expectUtf8Size(text, bytes));

  it('takes 64 KiB by default', () => {
    const fits = JSON.stringify('x'.repeat(JSON_MAX_BYTES - 2));
    expect(parseJsonWithLimits(fits).ok).toBe(true);
    expect(parseJsonWithLimits(JSON.stringify('x'.repeat(JSON_MAX_BYTES - 1)))).toMatchObject({ ok: false, problem: 'too_large' });
  });

  it('names the depth limit it refused', () => {
    expect(parseJsonWithLimits('[[[1]]]', { maxDepth: 2 })).toEqual({
      ok: false,
      problem: 'too_deep',
      message: 'JSON is nested deeper than the limit of 2 levels.',
    });
    expect(parseJsonWithLimits('[[[1]]]', { maxDepth: 3 }).ok).toBe(true);
  });

  it('counts depth, not brackets: closed siblings free their level', () => {
    expect(parseJsonWithLimits('[[],{},[1],{"a":2}]', { maxDepth: 2 })).toEqual({ ok: true, value: [[], {}, [1], { a: 2 }] });
  });

  it('a string ends at an unescaped quote, after an escaped backslash too', () => {
    expect(parseJsonWithLimits('["\\\\",[1]]', { maxDepth: 1 })).toMatchObject({ ok: false, problem: 'too_deep' });
    expect(parseJsonWithLimits('["\\"[[[",1]', { maxDepth: 1 })).toEqual({ ok: true, value: ['"[[[', 1] });
  });

  it('says why the JSON is invalid', () => {
    const result = parseJsonWithLimits('{"a":');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/^Invalid JSON: \S/);
  });
});

describe('isWithinJsonDepth at its edges', () => {
  it('walks past null members (typeof null is "object") without counting them as a level', () => {
    expect(isWithinJsonDepth({ a: null, b: [null, { c: null }] }, 3)).toBe(true);
    expect(isWithinJsonDepth({ a: null, b: [null, { c: null }] }, 2)).toBe(false);
    expect(isWithinJsonDepth(null, 0)).toBe(true);
  });
});

describe('the echo of a client input at its edges', () => {
  it('keeps text of exactly the limit and cuts one more character with an ellipsis', () => {
    const fits = 'x'.repeat(ECHO_MAX_CHARS);
    expect(echoText(fits)).toBe(fits);
    expect(echoText(`${fits}y`)).toBe(`${fits}…`);
    expect(echoInput(`${fits}y`)).toBe(`${fits}…`);
  });

  it('repeats an array or object whose JSON is about the limit, and describes a larger one', () => {
    // Estimated as JSON: brackets 2, a separator per item, a string's quotes 2, a key's quotes and colon 4.
    expect(echoInput(['s'.repeat(95)])).toEqual(['s'.repeat(95)]);
    expect(echoInput(['s'.repeat(96)])).toBe('[an array of 1 items]');
    expect(echoInput({ a: 's'.repeat(91) })).toEqual({ a: 's'.repeat(91) });
    expect(echoInput({ a: 's'.repeat(92) })).toBe('{an object with 1 keys}');
    expect(echoInput({ ['k'.repeat(93)]: 1 })).toEqual({ ['k'.repeat(93)]: 1 });
    expect(echoInput({ ['k'.repeat(94)]: 1 })).toBe('{an object with 1 keys}');
    expect(echoInput([null, true, 12345])).toEqual([null, true, 12345]);
    expect(echoInput(Array.from({ length: 33 }, () => 10))).toBe('[an array of 33 items]');
    expect(echoInput(Array.from({ length: 32 }, () => 10))).toHaveLength(32);
  });

  it('describes an array whose brackets and separators alone reach the limit: its items would pass it', () => {
    const atLimit = Array.from({ length: ECHO_MAX_CHARS - 2 }, () => 0);
    expect(echoInput(atLimit)).toBe(`[an array of ${ECHO_MAX_CHARS - 2} items]`);
  });

  it('describes a two-million-item array without spreading it onto the stack', () => {
    const huge = new Array<number>(2_000_000).fill(0);
    expect(echoInput(huge)).toBe('[an array of 2000000 items]');
  });

  it('passes scalars through', () => {
    expect(echoInput(42)).toBe(42);
    expect(echoInput(null)).toBeNull();
    expect(echoInput(undefined)).toBeUndefined();
  });

  it('echoJson: JSON of what may be repeated, the description of a large value bare', () => {
    expect(echoJson('ab')).toBe('"ab"');
    expect(echoJson('x'.repeat(200))).toBe(JSON.stringify(`${'x'.repeat(ECHO_MAX_CHARS)}…`));
    expect(echoJson(['s'.repeat(96)])).toBe('[an array of 1 items]');
    expect(echoJson(undefined)).toBe('undefined');
    expect(echoJson(7)).toBe('7');
  });
});
