import type { z } from 'zod';
import { autoSubmitEventSchema, findEpisodesEventSchema, writeReportEventSchema } from '../../layers/cloud/src/batch';
import { InvalidEventError, parseEvent } from '../../layers/cloud/src/lambda-event';
import { gradeEventSchema } from '../../functions/grade/handler';

/** The Lambda events' schemas: what they accept, and errors that name the field and what it allows. */

describe('Lambda events', () => {
  it('accepts the events Step Functions and the api send', () => {
    expect(parseEvent(findEpisodesEventSchema, { run_id: 'r', started_at: '2026-01-02T03:04:05.678Z', request: { trigger: 'schedule' } })).toEqual({
      run_id: 'r',
      started_at: '2026-01-02T03:04:05.678Z',
      request: { trigger: 'schedule' },
    });
    expect(parseEvent(findEpisodesEventSchema, { run_id: 'r', started_at: '', request: null })).toEqual({ run_id: 'r', request: null });
    expect(parseEvent(autoSubmitEventSchema, { run_id: 'r', tenant: 't', episode_id: 'e' })).toEqual({ run_id: 'r', tenant: 't', episode_id: 'e' });
    expect(parseEvent(writeReportEventSchema, { run_id: 'r', truncated: 'true' })).toEqual({ run_id: 'r', truncated: true, results: [] });
    expect(parseEvent(writeReportEventSchema, { run_id: 'r', truncated: false, results: [{}] }).truncated).toBe(false);
    expect(parseEvent(gradeEventSchema, { source: 'api', tenant: 't', episode_id: 'e' })).toEqual({ source: 'api', tenant: 't', episode_id: 'e' });
  });

  it.each<[z.ZodType<unknown>, unknown, string]>([
    [autoSubmitEventSchema, { run_id: 'r', tenant: 't' }, 'The event needs episode_id (a non-empty string).'],
    [gradeEventSchema, { tenant: '', episode_id: 'e' }, 'The event needs tenant (a non-empty string), got "".'],
    [findEpisodesEventSchema, { run_id: 'r', request: { until: 'soon' } }, 'The event needs request.until (an ISO time), got "soon".'],
    [writeReportEventSchema, { run_id: 'r', truncated: 'yes' }, 'The event needs truncated (true, false, "true" or "false"), got "yes".'],
    [writeReportEventSchema, { run_id: 'r', results: {} }, 'The event needs results (an array), got {}.'],
    [gradeEventSchema, null, 'The event must be a JSON object, got null.'],
  ])('refuses a bad event', (schema, event, message) => {
    expect(() => parseEvent(schema, event)).toThrow(InvalidEventError);
    expect(() => parseEvent(schema, event)).toThrow(message);
  });
});
