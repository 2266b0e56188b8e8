import type { z } from 'zod';
import { writeReportEventSchema } from '../../layers/cloud/src/batch';
import { findEpisodesEventSchema } from '../../layers/cloud/src/batch-find';
import { gradeBatchEventSchema, MAX_EPISODES_PER_INVOCATION } from '../../layers/cloud/src/batch-grade';
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
    expect(parseEvent(findEpisodesEventSchema, { run_id: 'r', request: { trigger: 'continuation', parent_run_id: 'p' } }).request).toEqual({ trigger: 'continuation', parent_run_id: 'p' });
    expect(parseEvent(gradeBatchEventSchema, { run_id: 'r', episodes: [{ tenant: 't', episode_id: 'e' }] })).toEqual({ run_id: 'r', episodes: [{ tenant: 't', episode_id: 'e', abandoned: false }] });
    const found = { status: 'found', since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00Z', truncated: true, counts: { ended: 2, abandoned: 1, total: 3, carried_over: 7 } };
    expect(parseEvent(writeReportEventSchema, { run_id: 'r', found, graded: {} })).toEqual({ run_id: 'r', found: { ...found, advances_window: true }, graded: {} });
    expect(parseEvent(writeReportEventSchema, { run_id: 'r', found: { status: 'busy', held_by: 'x' } }).found).toEqual({ status: 'busy' });
    expect(parseEvent(gradeEventSchema, { source: 'api', tenant: 't', episode_id: 'e' })).toEqual({ source: 'api', tenant: 't', episode_id: 'e' });
  });

  it.each<[z.ZodType<unknown>, unknown, string]>([
    [gradeBatchEventSchema, { run_id: 'r', episodes: [{ tenant: 't' }] }, 'The event needs episodes.0.episode_id (a non-empty string).'],
    [
      gradeBatchEventSchema,
      { run_id: 'r', episodes: Array.from({ length: MAX_EPISODES_PER_INVOCATION + 1 }, () => ({ tenant: 't', episode_id: 'e' })) },
      `The event needs episodes (at most ${MAX_EPISODES_PER_INVOCATION} episodes)`,
    ],
    [gradeEventSchema, { tenant: '', episode_id: 'e' }, 'The event needs tenant (a non-empty string), got "".'],
    [findEpisodesEventSchema, { run_id: 'r', request: { until: 'soon' } }, 'The event needs request.until (an ISO time), got "soon".'],
    [writeReportEventSchema, { run_id: 'r', found: { status: 'found', truncated: 'yes', counts: {} } }, 'The event needs found.truncated (true or false), got "yes".'],
    [writeReportEventSchema, { run_id: 'r', found: { status: 'busy' }, graded: { ResultWriterDetails: 'x' } }, 'The event needs graded.ResultWriterDetails (an object with Bucket and Key), got "x".'],
    [gradeEventSchema, null, 'The event must be a JSON object, got null.'],
  ])('refuses a bad event', (schema, event, message) => {
    expect(() => parseEvent(schema, event)).toThrow(InvalidEventError);
    expect(() => parseEvent(schema, event)).toThrow(message);
  });
});
