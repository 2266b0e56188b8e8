/**
 * The terminal check: what `agent`, `run` and `eval` print, as a newcomer sees it in an
 * 80-column terminal. Each command's stdout and stderr (volatile values masked: times,
 * rates, temporary paths) are compared with a golden file in fixtures/terminal/, and no
 * line may be wider than 80 columns. Where tmux is installed, `agent` also runs in a real
 * 80x24 tmux pane and nothing may wrap there; without tmux that part is skipped, loudly.
 *
 * After an intended change of the output, regenerate the golden files and review the diff:
 *   UPDATE_GOLDEN=1 npx jest test/cli/terminal-output.test.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TERMINAL_WIDTH } from '../../cli/help-text';
import { AWS_SDK_NODE_WARNING_ENV } from '../../cli/node-advice';
import { runCli } from './cli-harness';

const GOLDEN_DIR = join(__dirname, 'fixtures', 'terminal');
const REPO = join(__dirname, '..', '..');
/** The one-line Node advice depends on the machine's Node, not on these commands. */
const QUIET_ENV = { [AWS_SDK_NODE_WARNING_ENV]: 'true' };

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'mlt-terminal-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Times, rates and the scratch directory vary from run to run; everything else is deterministic with the formula trainer. */
function mask(text: string): string {
  return text
    .replaceAll(scratch, '<tmp>')
    .replace(/\b\d+\.\d+s\b/g, '<t>s')
    .replace(/\b\d+(\.\d+)? s\b/g, '<t> s')
    .replace(/\(\d+(\.\d+)? per hour\)/g, '(<n> per hour)');
}

function transcript(r: { code: number; stdout: string; stderr: string }): string {
  return `exit code ${r.code}\n--- stderr ---\n${mask(r.stderr)}--- stdout ---\n${mask(r.stdout)}`;
}

function widerThanTerminal(text: string): string[] {
  return text.split('\n').filter((line) => [...line].length > TERMINAL_WIDTH);
}

function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.CI && process.env.UPDATE_GOLDEN !== '1') throw new Error(`${file} is missing: run UPDATE_GOLDEN=1 npx jest ${__filename}`);
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const AGENT_ARGS = ['agent', '--task', 'easy_mnist', '--policy', 'baseline', '--trainer', 'formula'];

describe('the terminal output of agent, run and eval (80 columns, golden files)', () => {
  it('agent: baseline on easy_mnist, in-process', async () => {
    const r = await runCli(AGENT_ARGS, '', QUIET_ENV);
    expect(r.code).toBe(0);
    expect(widerThanTerminal(r.stdout + r.stderr)).toEqual([]);
    expectGolden('agent-baseline-easy_mnist', transcript(r));
  });

  it('run: an example script', async () => {
    const r = await runCli(['run', '--task', 'medium_fashion', '--actions', join(REPO, 'examples', 'quick-adamw-cosine.json'), '--trainer', 'formula'], '', QUIET_ENV);
    expect(r.code).toBe(0);
    expect(widerThanTerminal(r.stdout + r.stderr)).toEqual([]);
    expectGolden('run-example', transcript(r));
  });

  it('run: a script with refused calls and a late rebuild explains both', async () => {
    const script = join(scratch, 'careless.json');
    writeFileSync(
      script,
      JSON.stringify([
        { tool: 'configure_training', arguments: { optimizer: 'adamw', dropout: 0.1 } },
        { tool: 'run_epochs', arguments: { num_epochs: 12 } },
        { tool: 'fly' },
        { tool: 'configure_training', arguments: { optimizer: 'adamw', dropout: 0.3 } },
        { tool: 'run_epochs', arguments: { num_epochs: 2 } },
        { tool: 'adjust_learning_rate', arguments: { new_lr: -1 } },
        { tool: 'submit_model' },
      ]),
    );
    const r = await runCli(['run', '--task', 'medium_fashion', '--actions', script, '--trainer', 'formula'], '', QUIET_ENV);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('Graded on the model rebuilt at step 4 (dropout changed) only');
    expect(r.stdout).toContain('2 calls refused');
    expect(widerThanTerminal(r.stdout + r.stderr)).toEqual([]);
    expectGolden('run-refused-and-rebuilt', transcript(r));
  });

  it('eval: baseline on easy_mnist, 2 seeds, compared with default', async () => {
    const r = await runCli(['eval', '--policy', 'baseline', '--tasks', 'easy_mnist', '--seeds', '2', '--trainer', 'formula', '--cache-dir', join(scratch, 'eval-cache')], '', QUIET_ENV);
    expect(r.code).toBe(0);
    expect(widerThanTerminal(r.stdout + r.stderr)).toEqual([]);
    expectGolden('eval-baseline-easy_mnist', transcript(r));
  });
});

const tmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
if (!tmux) {
  // Loud on purpose: the golden files above still hold the layout, but no real terminal checked it.
  console.warn('terminal-output.test: tmux is not installed; the 80x24 tmux capture is SKIPPED (apt-get install -y tmux to run it)');
}

(tmux ? describe : describe.skip)('agent in a real 80x24 terminal (tmux)', () => {
  it('prints nothing that the terminal has to wrap', () => {
    const socket = `mlt-${process.pid}`;
    const t = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
    const command = [process.execPath, '--import', 'tsx', join(__dirname, 'fixtures', 'run-cli.ts'), ...AGENT_ARGS].map((a) => `'${a}'`).join(' ');
    try {
      t('new-session', '-d', '-x', '80', '-y', '24', '-s', 'check', `cd '${REPO}' && ${AWS_SDK_NODE_WARNING_ENV}=true ${command}; tmux -L ${socket} wait-for -S played; sleep 60`);
      t('wait-for', 'played');
      // -J joins the lines the terminal wrapped: equal captures mean nothing wrapped.
      const asShown = t('capture-pane', '-p', '-S', '-', '-t', 'check');
      const joined = t('capture-pane', '-p', '-J', '-S', '-', '-t', 'check');
      expect(asShown).toContain('Grade:');
      expect(asShown.split('\n').length).toBe(joined.split('\n').length);
    } finally {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
    }
  });
});
