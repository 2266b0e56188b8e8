import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { UsageError } from '../../cli/command';
import { benchCommand, parseBenchArgv } from '../../cli/commands/bench';

const ROOT = '/repo/main';
const parse = (argv: string[], env: NodeJS.ProcessEnv = { HOME: '/home/u', XDG_CACHE_HOME: '/cache' }) => parseBenchArgv(argv, env, ROOT);

describe('ml-trainer bench arguments', () => {
  it('defaults to every task and batch size, 3 epochs after 1 warm-up, data where it is', () => {
    const o = parse([]);
    expect(o).toMatchObject({
      tasks: ['easy_mnist', 'medium_fashion', 'hard_cifar'],
      batchSizes: [32, 64, 128, 256],
      epochs: 3,
      warmup: 1,
      rounds: 1,
      data: 'auto',
      dataDir: '/cache/ml-trainer/datasets',
      vsPytorch: false,
      venvDir: '/cache/ml-trainer/ptvenv',
      pytorchScript: join('/repo', 'shared', 'reference', 'pt_reference.py'),
      childProcesses: true,
      bin: '/repo/main/bin/ml-trainer.js',
      json: false,
    });
    expect(o.python).toBeUndefined();
  });

  it('takes repeated or comma-separated tasks and batch sizes, without duplicates', () => {
    const o = parse(['--task', 'hard_cifar,easy_mnist', '--task', 'easy_mnist', '--batch-sizes', '64, 32', '--batch-sizes', '64']);
    expect(o.tasks).toEqual(['hard_cifar', 'easy_mnist']);
    expect(o.batchSizes).toEqual([64, 32]);
  });

  it('reads --rounds, with or without --vs-pytorch', () => {
    expect(parse(['--rounds', '3']).rounds).toBe(3);
    expect(parse(['--rounds=2', '--vs-pytorch']).rounds).toBe(2);
    expect(parse(['--rounds', ' 5 ']).rounds).toBe(5);
    expect(parse(['--rounds', '1000']).rounds).toBe(1000);
  });

  it('documents --rounds in --help', () => {
    expect(benchCommand.help).toMatch(/--rounds <N>\s+rounds of ours then PyTorch/);
    expect(benchCommand.help).toContain('[--rounds N]');
  });

  it('times the server calls unless --no-server, and --bin also names the server that runs them', () => {
    expect(parse([]).serverLatency).toBe(true);
    expect(parse(['--no-server']).serverLatency).toBe(false);
    expect(parse(['--no-child', '--bin', __filename]).bin).toBe(__filename);
    expect(benchCommand.help).toMatch(/--no-server\s+skip the local server's call latencies/);
  });

  it('reads the PyTorch options', () => {
    const o = parse(['--vs-pytorch', '--python', '/tmp/ptvenv/bin/python', '--pytorch-script', '/ref/pt.py', '--data-dir', '/d', '--json', '--no-child']);
    expect(o).toMatchObject({ vsPytorch: true, python: '/tmp/ptvenv/bin/python', pytorchScript: '/ref/pt.py', dataDir: '/d', json: true, childProcesses: false });
  });

  it.each([
    [['--task', 'easy'], /unknown task "easy"; tasks: easy_mnist, medium_fashion, hard_cifar/],
    [['--task', ','], /--task needs a task id/],
    [['--batch-sizes', '48'], /batch size "48" is not one of 32, 64, 128, 256/],
    [['--batch-sizes', '64x'], /batch size "64x"/],
    [['--batch-sizes', ''], /--batch-sizes needs/],
    [['--epochs', '0'], /--epochs must be between 1 and 1000/],
    [['--epochs', '2.5'], /--epochs must be a whole number/],
    [['--warmup=-1'], /--warmup must be a whole number/],
    [['--rounds', '0'], /--rounds must be between 1 and 1000, got 0/],
    [['--rounds', '1001'], /--rounds must be between 1 and 1000, got 1001/],
    [['--rounds=-2'], /--rounds must be a whole number ≥ 1, got "-2"/],
    [['--rounds', '1.5'], /--rounds must be a whole number ≥ 1, got "1.5"/],
    [['--rounds', 'three'], /--rounds must be a whole number ≥ 1, got "three"/],
    [['--rounds', ''], /--rounds must be a whole number ≥ 1, got ""/],
    [['--data', 'fake'], /--data must be real or random/],
    [['--python', '/usr/bin/python3'], /--python only applies with --vs-pytorch/],
    [['--pytorch-script', 'x.py'], /--pytorch-script only applies with --vs-pytorch/],
    [['--vs-pytorch', '--python', 'p', '--venv', 'v'], /--python or --venv, not both/],
    [['--data', 'random', '--data-dir', '/d'], /--data-dir has no use with --data random/],
    [['--bin', '/nonexistent/ml-trainer.js'], /--bin \/nonexistent\/ml-trainer.js: no such file/],
    [['--no-child', '--no-server', '--bin', __filename], /--bin has no use with --no-child and --no-server/],
  ])('refuses %j', (argv, message) => {
    expect(() => parse(argv as string[])).toThrow(UsageError);
    expect(() => parse(argv as string[])).toThrow(message as RegExp);
  });

  it('leaves unknown options and positionals to parseArgs (the CLI prints them as usage errors)', () => {
    expect(() => parse(['--epoch', '3'])).toThrow(expect.objectContaining({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }));
    expect(() => parse(['easy_mnist'])).toThrow(expect.objectContaining({ code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' }));
    expect(() => parse(['--rounds'])).toThrow(expect.objectContaining({ code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' }));
  });

  it('checks its arguments before loading TensorFlow', async () => {
    const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from(['']), env: {} };
    await expect(benchCommand.run(['--epochs', 'x'], io)).rejects.toThrow(UsageError);
    await expect(benchCommand.run(['--rounds', '0'], io)).rejects.toThrow(/--rounds/);
  });
});
