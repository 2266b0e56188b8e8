import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the server answers a request Node's HTTP parser refused before fastify saw it (headers
 * or URL over Node's 16 KiB limit: 431; malformed HTTP: 400; a request too slow: 408), in the
 * same body shape as fastify's answers: the REST API's under `restPrefix`, FastAPI's
 * `{"detail": ...}` elsewhere. The request line is all that is known of the request.
 */
export function clientErrorHandler(restPrefix: string) {
  return (error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    if (!socket.writable) return void socket.destroy(error);
    // Bytes Node could not parse after a complete request (a body sent without Content-Length on a
    // DELETE, say) while that request's answer is pending or sent: a second answer on the same
    // connection would follow one that may say `Connection: close`, so the connection just ends
    // after the first, as Node's own handler does when anything has been written.
    const answering = (socket as Socket & { _httpMessage?: NodeJS.EventEmitter & { writableFinished?: boolean } })._httpMessage;
    if (answering && !answering.writableFinished) return void answering.once('finish', () => socket.end());
    if (socket.bytesWritten > 0) return void socket.end();
    const [status, code, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'The request line and headers are larger than the server accepts (16 KiB).']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request_timeout', 'The request was not received in time.']
          : [400, 'invalid_request', 'The request is not valid HTTP.'];
    const requestLine = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.toString('latin1', 0, 64) : '';
    const isRest = new RegExp(`^[A-Z]+ ${restPrefix}([/? ]|$)`).test(requestLine);
    const body = JSON.stringify(isRest ? { error: { code, message, details: {} } } : { detail: message });
    // A response to HEAD has the headers a GET would get and no body (RFC 9110 9.3.2).
    const sent = requestLine.startsWith('HEAD ') ? '' : body;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${sent}`,
    );
  };
}
