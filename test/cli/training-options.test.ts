import { PassThrough, Readable } from 'node:stream';
import { trainerFactoryFor } from '../../cli/training-options';

/** Which thread count trainerFactoryFor pins for a one-task command (it sets TF_NUM_INTRAOP_THREADS before TensorFlow loads). */
describe('trainerFactoryFor', () => {
  const saved = process.env.TF_NUM_INTRAOP_THREADS;
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from(['']), env: {} };
  afterEach(() => {
    if (saved === undefined) delete process.env.TF_NUM_INTRAOP_THREADS;
    else process.env.TF_NUM_INTRAOP_THREADS = saved;
  });

  it('trains one episode of one task here on its thread count, several at once in the worker pool', async () => {
    delete process.env.TF_NUM_INTRAOP_THREADS;
    await trainerFactoryFor({}, io, 'easy_mnist', { concurrency: 2 });
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBeUndefined();
    await trainerFactoryFor({}, io, 'easy_mnist', { concurrency: 1 });
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBe('1');
  });
});
