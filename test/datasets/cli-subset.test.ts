import { UsageError } from '../../cli/command';
import { subsetCommand } from '../../cli/commands/subset';
import subsets from '../fixtures/subsets.json';
import { captureIO } from './helpers/capture-io';

const tasks = (subsets as { tasks: Record<string, { train: number[]; val: number[] }> }).tasks;

describe('ml-trainer subset', () => {
  it.each(['easy_mnist', 'medium_fashion', 'hard_cifar'])('--task %s --json prints the PyTorch subset', async (task) => {
    const io = captureIO();
    expect(await subsetCommand.run(['--task', task, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual({ train: tasks[task].train, val: tasks[task].val });
  });

  it('--seed draws another subset, and big seeds behave as in torch (low 32 bits)', async () => {
    const run = async (seed: string) => {
      const io = captureIO();
      await subsetCommand.run(['--task', 'easy_mnist', '--seed', seed, '--json'], io);
      return JSON.parse(io.out()) as { train: number[]; val: number[] };
    };
    const seven = await run('7');
    expect(seven.train).toHaveLength(4000);
    expect(seven.train).not.toEqual(tasks.easy_mnist.train);
    expect(await run(String(2 ** 32 + 7))).toEqual(seven);
    expect(await run('42')).toEqual({ train: tasks.easy_mnist.train, val: tasks.easy_mnist.val });
  });

  it('prints a short summary without --json', async () => {
    const io = captureIO();
    await subsetCommand.run(['--task', 'hard_cifar'], io);
    expect(io.out()).toMatch(/^hard_cifar: cifar10, seed 456: 8000 training and 2000 validation rows of the official training split \(50000 images\)\ntrain: \d+/);
  });

  it.each([
    [[], /--task is required/],
    [['--task', 'cifar'], /unknown task "cifar"; tasks: easy_mnist, medium_fashion, hard_cifar/],
    [['--task', 'easy_mnist', '--seed', '1.5'], /--seed must be an integer, got "1.5"/],
    [['--task', 'easy_mnist', '--seed', String(2n ** 64n)], /--seed must be in \[-2\^63, 2\^64 - 1\]/],
  ])('refuses bad input %p with a UsageError', async (argv, message) => {
    const attempt = subsetCommand.run(argv as string[], captureIO());
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('has help text naming its options', () => {
    expect(subsetCommand.help).toMatch(/--task <easy_mnist\|medium_fashion\|hard_cifar>/);
    expect(subsetCommand.help).toMatch(/--seed/);
    expect(subsetCommand.help).toMatch(/--json/);
  });
});
