import type { FastifyRequest } from 'fastify';
import { URL_MAX_LENGTH } from '../../core/src';
import { HttpError } from './http-error';

/**
 * An onRequest hook: a URL longer than the wire limit is refused with 414 before any route
 * parses it (each interface's error handler renders it). URLs over Node's header limit
 * (16 KiB) never get this far: Node answers 431 itself.
 */
export async function rejectLongUrl(request: FastifyRequest): Promise<void> {
  if (request.url.length > URL_MAX_LENGTH) {
    throw new HttpError(414, 'uri_too_long', `The URL is longer than the limit of ${URL_MAX_LENGTH} characters.`);
  }
}
