import type { FastifyInstance } from 'fastify';
import { parseJsonWithLimits } from '../../core/src';
import { HttpError } from './http-error';

/** application/json and any application/*+json. */
const JSON_CONTENT_TYPE = /^application\/([a-z0-9.+-]+\+)?json$/i;

/**
 * Parses JSON text within the wire limits (the size itself fastify's bodyLimit checks); an
 * empty (or all-whitespace) body is no body (undefined); invalid JSON is an HttpError 400
 * `invalid_json`, JSON nested too deeply a 400 `json_too_deep`.
 */
export function parseJsonText(text: string, maxBytes: number): unknown {
  if (text.trim() === '') return undefined;
  const parsed = parseJsonWithLimits(text, { maxBytes });
  if (parsed.ok) return parsed.value;
  if (parsed.problem === 'too_deep') throw new HttpError(400, 'json_too_deep', parsed.message);
  if (parsed.problem === 'too_large') throw new HttpError(413, 'payload_too_large', parsed.message);
  throw new HttpError(400, 'invalid_json', parsed.message);
}

/**
 * Replaces fastify's body parsers in this context with one for JSON that reports bad
 * JSON as an HttpError (400 invalid_json). Other content types get fastify's 415. The size
 * is fastify's bodyLimit's (counted on the bytes received), not counted again here.
 */
export function useJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_CONTENT_TYPE, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonText(body as string, Number.POSITIVE_INFINITY));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

/** Accepts any content type and hands the route the body text unparsed (JSON-RPC parses it itself). */
export function useTextBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
}
