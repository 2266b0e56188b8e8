import { EpisodeServiceError, loadEpisode, notFound, requireTenant, stepNotFound, type EpisodeReader } from '../../layers/episodes/src';

/** The refusals a caller sees when an episode cannot be looked up: their code, message and details. */

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** A reader that finds nothing and remembers what it was asked. */
function emptyReader(): EpisodeReader & { asked: unknown[][] } {
  const asked: unknown[][] = [];
  return { asked, get: async (...args: unknown[]) => (asked.push(args), null) } as EpisodeReader & { asked: unknown[][] };
}

describe('episode lookup', () => {
  it('refuses an invalid tenant with invalid_request naming the tenant field', () => {
    const error = thrown(() => requireTenant('bad/tenant'));
    expect(error).toBeInstanceOf(EpisodeServiceError);
    expect(error).toMatchObject({ name: 'EpisodeServiceError', code: 'invalid_request', message: 'Invalid tenant id "bad/tenant".', details: { field: 'tenant' } });
    expect(String(error)).toBe('EpisodeServiceError: Invalid tenant id "bad/tenant".');
    expect(() => requireTenant('tenant-a')).not.toThrow();
  });

  it('answers a missing episode with not_found naming the episode', () => {
    expect(notFound('ep-1')).toMatchObject({ code: 'not_found', message: 'No episode "ep-1".', details: { episode_id: 'ep-1' } });
  });

  it('answers a missing step with not_found naming the step and its episode', () => {
    expect(stepNotFound('ep-1', 'st-2')).toMatchObject({
      code: 'not_found',
      message: 'No step "st-2" on episode "ep-1".',
      details: { episode_id: 'ep-1', step_id: 'st-2' },
    });
  });

  it('reads a string episode id from the store and never asks it about a non-string one', async () => {
    const reader = emptyReader();
    await expect(loadEpisode(reader, 'tenant-a', 'ep-1')).rejects.toMatchObject({ code: 'not_found', details: { episode_id: 'ep-1' } });
    expect(reader.asked).toEqual([['tenant-a', 'ep-1']]);
    // An untyped caller (a JSON body) can hand over anything.
    await expect(loadEpisode(reader, 'tenant-a', 42 as unknown as string)).rejects.toMatchObject({ code: 'not_found', message: 'No episode 42.' });
    expect(reader.asked).toHaveLength(1);
  });
});
