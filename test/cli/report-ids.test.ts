import { runCli } from './cli-harness';

/** Issue 12, row 9: `ml-trainer report` refuses ids that name no episode with exit 2 and a clear message, before any request. */
describe('ml-trainer report refuses bad episode ids', () => {
  it.each([
    ['an empty id', '', /got ""$/m],
    ['a dot', '.', /got "\."$/m],
    ['two dots', '..', /got "\.\."$/m],
    ['a path', 'a/b', /got "a\/b"$/m],
    ['a 300-character id (not echoed in full)', 'x'.repeat(300), /got "x{40}"… \(300 characters\)$/m],
  ])('%s', async (_what, id, shown) => {
    // An unreachable server: a request would fail differently (exit 2 "cannot reach"); the id is refused first.
    for (const source of [['--server', 'http://127.0.0.1:9'], ['--state-dir', '/nonexistent-state']]) {
      const result = await runCli(['report', id, ...source]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('ml-trainer report: <episode-id> must be an episode id: 1 to 128 characters');
      expect(result.stderr).toMatch(shown);
      expect(result.stderr).not.toContain('x'.repeat(41));
      expect(result.stderr).not.toMatch(/cannot reach|no state directory/);
    }
  });
});
