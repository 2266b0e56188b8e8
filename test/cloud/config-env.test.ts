import { batchSettingsFromEnv, CloudConfigError, episodeQuotaFromEnv, parseSecondsPerEpoch, reportSettingsFromEnv, requiredEnv, stepRoutingFromEnv } from '../../layers/cloud/src/config';

/** The environment schemas' defaults and the errors that name a variable, what it allows and what it holds. */

describe('cloud settings from the environment', () => {
  it('applies the defaults to unset and blank variables', () => {
    expect(batchSettingsFromEnv({ ABANDON_AFTER_HOURS: ' ' })).toEqual({ abandonAfterHours: 24, maxEpisodesPerRun: 1_000_000, runTimeoutSeconds: 6 * 3600 });
    expect(episodeQuotaFromEnv({})).toBe(0);
    expect(reportSettingsFromEnv({}).prefix).toBe('reports/');
    expect(reportSettingsFromEnv({ REPORTS_PREFIX: '' }).prefix).toBe('');
    expect(parseSecondsPerEpoch(' easy_mnist = 2 , hard_cifar=3')).toEqual({ easy_mnist: 2, medium_fashion: 2.5, hard_cifar: 3 });
    expect(requiredEnv({ GRADE_FUNCTION_NAME: ' grade ' }, 'GRADE_FUNCTION_NAME')).toBe('grade');
  });

  it.each([
    [() => stepRoutingFromEnv({ TRAINING_MEMORY_MB: '12.5' }), 'TRAINING_MEMORY_MB must be an integer of at least 128, got "12.5".'],
    [() => stepRoutingFromEnv({ STEP_START_WITHIN_MS: '10' }), 'STEP_START_WITHIN_MS must be a number of at least 1000, got "10".'],
    [() => batchSettingsFromEnv({ MAX_EPISODES_PER_RUN: '0' }), 'MAX_EPISODES_PER_RUN must be an integer of at least 1, got "0".'],
    [() => batchSettingsFromEnv({ RUN_TIMEOUT_SECONDS: '59' }), 'RUN_TIMEOUT_SECONDS must be an integer of at least 60, got "59".'],
    [() => episodeQuotaFromEnv({ EPISODE_QUOTA_PER_MONTH: '-1' }), 'EPISODE_QUOTA_PER_MONTH must be an integer of at least 0, got "-1".'],
    [() => parseSecondsPerEpoch('{bad'), 'STEP_SECONDS_PER_EPOCH is not valid JSON, got "{bad".'],
    [() => parseSecondsPerEpoch('easy_mnist'), 'STEP_SECONDS_PER_EPOCH: easy_mnist needs a positive number of seconds, got "easy_mnist".'],
    [() => requiredEnv({ GRADE_FUNCTION_NAME: ' ' }, 'GRADE_FUNCTION_NAME'), 'GRADE_FUNCTION_NAME is not set.'],
  ])('refuses a malformed variable (%#)', (read, message) => {
    expect(read).toThrow(CloudConfigError);
    expect(read).toThrow(message);
  });
});
