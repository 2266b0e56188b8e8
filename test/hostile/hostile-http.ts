import fc from 'fast-check';
import { hostileString } from './hostile-json';

/** A path segment from a hostile string, percent-encoded (a lone surrogate as its invalid UTF-8 bytes). */
export function encodeSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return `%ED%A0%80${encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ''))}`;
  }
}

/** Path segments: hostile strings encoded, and raw ones a client may send (bad percent-encoding, dots, a 10 KB id). */
export const hostileSegment = fc.oneof(
  { weight: 4, arbitrary: hostileString.filter((s) => s.length < 2000).map(encodeSegment) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%zz', '%00', '..', '.', '%2e%2e', '%2F', 'a;b', 'a%20b', '~', 'x'.repeat(300), 'x'.repeat(10_000)) },
);

/** A query string (with its "?"), or none. */
export const hostileQuery = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(fc.oneof(fc.constantFrom('limit', 'cursor', 'episode_id', 'from', 'to', 'limit[]', '__proto__'), hostileSegment), hostileSegment), { minLength: 1, maxLength: 3 })
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
  fc.constantFrom('?', '?&&', '?limit', '?limit=1&limit=2', '?cursor=%', '?limit=-1', '?limit=1e3', '?limit=999999999999999999999'),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/JSON',
  'application/json;;;',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '*/*',
  '',
  'application/vnd.api+json',
);

/** Content types, tenants, origins, hosts (DNS rebinding), accepts, odd encodings, a large header; each may be absent. */
const someHeaders = fc
  .record(
    {
      'content-type': contentType,
      'x-tenant-id': fc.oneof(fc.constantFrom('local', 'tenant-b', '', ' ', 'a'.repeat(300), '../x', 'ten ant', '__proto__'), fc.string({ unit: 'grapheme-ascii', maxLength: 20 })),
      origin: fc.constantFrom('http://127.0.0.1', 'http://evil.example', 'null', 'file://', ''),
      host: fc.constantFrom('evil.example', 'localhost', '127.0.0.1', '[::1]', ''),
      accept: fc.constantFrom('application/json', 'text/event-stream', 'application/json, text/event-stream', '*/*', 'text/html', ''),
      'content-encoding': fc.constantFrom('gzip', 'identity', 'br'),
      'x-large': fc.constantFrom(300, 9_000).map((n) => 'h'.repeat(n)),
    },
    { requiredKeys: [] },
  )
  .map((headers) => headers as Record<string, string>);

/** Request headers: half the cases none beyond the defaults, so that bodies reach validation. */
export const hostileHeaders = fc.oneof(fc.constant({} as Record<string, string>), someHeaders);

export const httpMethod = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('GET', 'POST') }, { weight: 1, arbitrary: fc.constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') });
