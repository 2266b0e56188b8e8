import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli-harness';

const actions = [
  { tool: 'configure_training', arguments: { optimizer: 'sgd', learning_rate: 0.0008, lr_schedule: 'warmup_cosine', warmup_epochs: 2 } },
  { tool: 'run_epochs', arguments: { num_epochs: 4 } },
  { tool: 'adjust_learning_rate', arguments: { new_lr: 0.0005 } },
  { tool: 'configure_training', arguments: { dropout: 7 } },
  { tool: 'toggle_augmentation', arguments: { enabled: true } },
  { tool: 'run_epochs', arguments: { num_epochs: 3 } },
  { tool: 'get_training_status' },
];

function writeActions(value: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'actions-')), 'actions.json');
  writeFileSync(file, JSON.stringify(value));
  return file;
}

const withoutTimings = (line: string) => {
  const parsed = JSON.parse(line);
  if (parsed.observation) delete parsed.observation.epoch_time_seconds;
  return parsed;
};

describe('ml-trainer run', () => {
  it('prints one JSON line per step and the grade; a refused call makes the exit code 3', async () => {
    const r = await runCli(['run', '--task', 'medium_fashion', '--actions', writeActions(actions), '--trainer', 'formula', '--json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('1 call refused; fix the script or pass --allow-invalid');
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(actions.length + 1);
    expect(lines[1]).toMatchObject({ step: 2, tool: 'run_epochs', done: false, observation: { epochs_just_trained: 4 } });
    expect(lines[3].observation.error).toMatchObject({ code: 'invalid_arguments', field: 'dropout' });
    expect(lines[actions.length]).toMatchObject({ status: 'active', submitted: false, grade: { score: expect.any(Number) }, refused: 1 });
    expect(r.stderr).toContain('epoch 4 (4/4)');
    const allowed = await runCli(['run', '--task', 'medium_fashion', '--actions', writeActions(actions), '--trainer', 'formula', '--allow-invalid']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/1 call refused \(each still counted as a step\):\n {4}step 4 configure_training: dropout is invalid/);
  });

  it('prints identical lines when every step runs in a fresh process', async () => {
    const file = writeActions(actions);
    const stateDir = mkdtempSync(join(tmpdir(), 'state-'));
    const args = ['run', '--task', 'hard_cifar', '--seed', '9', '--actions', file, '--trainer', 'formula', '--json', '--allow-invalid'];
    const inProcess = await runCli(args);
    const fresh = await runCli([...args, '--fresh-process-per-step', '--state-dir', stateDir]);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout.trim().split('\n').map(withoutTimings)).toEqual(inProcess.stdout.trim().split('\n').map(withoutTimings));
    // Only the checkpoint the record names is kept; superseded ones are deleted after the commit.
    const files = readdirSync(stateDir).sort();
    expect(files).toHaveLength(2);
    expect(files[1]).toBe('episode.json');
  });

  it('stops at the end of the episode and says so', async () => {
    const r = await runCli(['run', '--task', 'easy_mnist', '--actions', writeActions([{ tool: 'submit_model' }, { tool: 'run_epochs' }]), '--trainer', 'formula', '--json']);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1])).toMatchObject({ status: 'submitted', submitted: true });
    expect(r.stderr).toContain('1 action(s) were not played');
  });

  it.each([
    [['run', '--actions', '-'], '[]', '--task'],
    [['run', '--task', 'easy_mnist'], '', '--actions'],
    [['run', '--task', 'mnist_hard', '--actions', '-'], '[]', 'valid task ids'],
    [['run', '--task', 'easy_mnist', '--actions', '-'], '{"tool":"x"}', 'JSON array'],
    [['run', '--task', 'easy_mnist', '--actions', '-'], '[{"tool":1}]', 'actions[0].tool must be a string'],
    [['run', '--task', 'easy_mnist', '--actions', '-'], '[{"tool":"run_epochs","args":{}}]', 'unknown keys args'],
    [['run', '--task', 'easy_mnist', '--actions', '-', '--seed', '-3'], '[]', '--seed'],
    [['run', '--task', 'easy_mnist', '--actions', '-', '--trainer', 'gpu'], '[]', '--trainer must be tfjs or formula'],
  ])('bad input %j exits 2 naming the problem', async (argv, stdin, message) => {
    const r = await runCli([...argv], stdin);
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
  });
});

describe('ml-trainer step', () => {
  it('starts an episode in an empty directory and continues it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'step-'));
    const first = await runCli(['step', '--state-dir', dir, '--task', 'easy_mnist', '--trainer', 'formula', '--json', '--action', '{"tool":"configure_training"}']);
    expect(first.code).toBe(0);
    const second = await runCli(['step', '--state-dir', dir, '--trainer', 'formula', '--json', '--action', '{"tool":"run_epochs","arguments":{"num_epochs":2}}']);
    expect(JSON.parse(second.stdout)).toMatchObject({ step: 2, observation: { current_epoch: 2 } });
  });

  it('refuses a corrupt state directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'step-'));
    await runCli(['step', '--state-dir', dir, '--task', 'easy_mnist', '--trainer', 'formula', '--action', '{"tool":"configure_training"}']);
    const checkpoint = readdirSync(dir).find((f) => f.startsWith('checkpoint-'))!;
    writeFileSync(join(dir, checkpoint), 'garbage');
    const r = await runCli(['step', '--state-dir', dir, '--trainer', 'formula', '--action', '{"tool":"get_training_status"}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('state directory is corrupt');
  });
});
