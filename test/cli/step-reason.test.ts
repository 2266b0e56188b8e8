import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STEP_REASON_MAX_LENGTH } from '../../layers/core/src';
import { runCli } from './cli-harness';

/** `ml-trainer step --action` (and `run --actions`) take a call's reason like every other way in. */
describe('ml-trainer step: a call with a reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'step-reason-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores the reason with the step in the saved record', async () => {
    const step = await runCli(['step', '--state-dir', dir, '--task', 'easy_mnist', '--trainer', 'formula', '--action', '{"tool":"configure_training","reason":"adam first"}']);
    expect(step.code).toBe(0);
    const saved = JSON.parse(readFileSync(join(dir, 'episode.json'), 'utf8'));
    expect(saved.record.steps.map((s: { reason?: string }) => s.reason)).toEqual(['adam first']);
  });

  it('refuses a bad reason with a usage error naming it, and takes no step', async () => {
    for (const reason of ['r'.repeat(STEP_REASON_MAX_LENGTH + 1), 'bell\u0007', 7]) {
      const refused = await runCli(['step', '--state-dir', dir, '--trainer', 'formula', '--action', JSON.stringify({ tool: 'get_training_status', reason })]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--action.reason must be text of at most');
    }
    const saved = JSON.parse(readFileSync(join(dir, 'episode.json'), 'utf8'));
    expect(saved.record.step_count).toBe(1);
  });
});
