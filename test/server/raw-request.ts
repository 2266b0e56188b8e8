import { request as httpRequest, type IncomingMessage } from 'node:http';

/** A response read with node:http, which (unlike fetch) lets a test send any Host header. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Read only until the headers when the answer is 200 (an event stream never ends). */
  headersOnly?: boolean;
}

/** One HTTP request to 127.0.0.1:port with exactly the given headers (Host included). */
export function rawRequest(port: number, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ agent: false, host: '127.0.0.1', port, method: req.method ?? 'GET', path: req.path, headers: req.headers ?? {} }, (res) => {
      if (req.headersOnly && res.statusCode === 200) {
        res.destroy();
        resolve(responseOf(res, ''));
        return;
      }
      readResponse(res, resolve);
    });
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

/**
 * A WebSocket upgrade request: resolves with 101 when the server upgrades (the socket is
 * then closed), else with the HTTP response the server answered instead.
 */
export function rawUpgrade(port: number, path: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({
      agent: false,
      host: '127.0.0.1',
      port,
      path,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    outgoing.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, headers: res.headers, text: '', json: undefined });
    });
    outgoing.on('response', (res) => readResponse(res, resolve));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Reads a response's body to its end. */
function readResponse(res: IncomingMessage, resolve: (response: RawResponse) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (text += chunk));
  res.on('end', () => resolve(responseOf(res, text)));
}

/** The response with its body as text and, when it is JSON, parsed. */
function responseOf(res: IncomingMessage, text: string): RawResponse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode ?? 0, headers: res.headers, text, json };
}
