import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-error';

/** application/json and any application/*+json. */
const JSON_CONTENT_TYPE = /^application\/([a-z0-9.+-]+\+)?json$/i;

/** Parses JSON text; an empty (or all-whitespace) body is no body (undefined); invalid JSON is an HttpError 400 naming the problem. */
export function parseJsonText(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, 'invalid_json', `Invalid JSON: ${(e as Error).message}`);
  }
}

/**
 * Replaces fastify's body parsers in this context with one for JSON that reports bad
 * JSON as an HttpError (400 invalid_json). Other content types get fastify's 415.
 */
export function useJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_CONTENT_TYPE, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonText(body as string));
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
