import { z } from 'zod';
import { JSON_MAX_DEPTH } from '../../layers/core/src';
import { eventText, InvalidEventError, parseEvent } from '../../layers/cloud/src/lambda-event';
import { parseTrainingEvent } from '../../layers/cloud/src/training-protocol';
import { startCloud, type Cloud } from './helpers';

/** Issue 12, rows 2 and 9, in the cloud: API Gateway events with bodies nested 6000 deep, framework errors, deep Lambda events. */

const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('the cloud api app: limits and error bodies', () => {
  let cloud: Cloud;
  beforeAll(async () => {
    cloud = await startCloud();
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const tooDeep = { error: { code: 'json_too_deep', message: `JSON is nested deeper than the limit of ${JSON_MAX_DEPTH} levels.`, details: {} } };

  it('a body nested 6000 deep is a 400 json_too_deep, and nothing happened', async () => {
    const created = await cloud.api('POST', '/v1/episodes', { body: { task_id: 'easy_mnist' } });
    expect(created.status).toBe(201);
    const id = created.json.episode_id as string;
    const bombs = [
      ['/v1/episodes', deepObject(6000)],
      [`/v1/episodes/${id}/steps`, `{"tool":"run_epochs","arguments":${deepObject(6000)}}`],
    ] as const;
    for (const [path, body] of bombs) {
      const answer = await cloud.api('POST', path, { body });
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual(tooDeep);
    }
    expect((await cloud.api('GET', `/v1/episodes/${id}`)).json.step_count).toBe(0);
  });

  it("fastify's own 400 and 414 in the REST error body", async () => {
    const badUrl = await cloud.api('GET', '/v1/%zz');
    expect(badUrl.status).toBe(400);
    expect(badUrl.json).toEqual({ error: { code: 'invalid_url', message: expect.any(String), details: {} } });
    const longId = await cloud.api('GET', `/v1/episodes/${'e'.repeat(300)}`);
    expect(longId.status).toBe(414);
    expect(longId.json).toEqual({ error: { code: 'uri_too_long', message: expect.any(String), details: {} } });
  });
});

describe('Lambda events nested deeply', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = { a: deep };

  it('parseEvent names the field without repeating the whole value', () => {
    const schema = z.object({ episode_id: eventText });
    expect(() => parseEvent(schema, { episode_id: deep })).toThrow(new InvalidEventError('The event needs episode_id (a non-empty string), got {an object with 1 keys}.'));
    expect(() => parseEvent(schema, 'x'.repeat(100_000))).toThrow(/^The event must be a JSON object, got "x{100}…"\.$/);
  });

  it('a training event whose call is nested too deeply is malformed, not a stack overflow', () => {
    const event = {
      kind: 'ml-trainer.step',
      version: 1,
      mode: 'sync',
      tenant: 't',
      episode_id: 'e',
      call: { tool: 'run_epochs', arguments: deep },
      request_id: 'r',
      call_sha256: 'h',
      requested_at: new Date(0).toISOString(),
    };
    expect(() => parseTrainingEvent(event)).toThrow(/^Malformed training event: call: call is nested deeper than the limit of 64 levels\.$/);
  });
});
