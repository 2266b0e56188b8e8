// The errors the core gives adapters: their names and codes are what the HTTP, JSON-RPC and CLI
// adapters map (and what logs show), so they are pinned here rather than only through an adapter.
import { checkpointUnavailable, CoreError, DatasetUnavailableError } from '../../layers/core/src';

describe('CoreError', () => {
  it('is an Error named CoreError whose info carries the code, the message and the detail', () => {
    const error = new CoreError('invalid_arguments', 'lr is invalid', { field: 'lr', allowed: 'a number' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CoreError');
    expect(String(error)).toBe('CoreError: lr is invalid');
    expect(error.toInfo()).toEqual({ code: 'invalid_arguments', message: 'lr is invalid', field: 'lr', allowed: 'a number' });
  });

  it('checkpointUnavailable names the episode and the reason, and what still works', () => {
    const error = checkpointUnavailable('ep-1', 'the tensors object is missing');
    expect(error.toInfo()).toEqual({
      code: 'checkpoint_unavailable',
      message:
        'The checkpoint of episode ep-1 is unavailable (the tensors object is missing), so its model cannot be restored ' +
        'and training tools cannot run. get_training_status works, and submit_model grades the metrics recorded so far.',
    });
  });
});

describe('DatasetUnavailableError', () => {
  it('is an Error named DatasetUnavailableError with the code dataset_unavailable and its detail', () => {
    const detail = { dataset: 'mnist', data_dir: '/data', next_attempt_at: null };
    const error = new DatasetUnavailableError('mnist is not on disk', detail);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DatasetUnavailableError');
    expect(error.code).toBe('dataset_unavailable');
    expect(error.message).toBe('mnist is not on disk');
    expect(error.detail).toEqual(detail);
  });
});
