import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the server answers one path. */
export type Route =
  | { body: Buffer }
  /** Announces the full length, sends `sendBytes` of it, then drops the connection. */
  | { body: Buffer; sendBytes: number }
  | { status: number };

export interface LoopbackServer {
  baseUrl: string;
  requests: string[];
  routes: Map<string, Route>;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (ephemeral port) serving fixed bodies, for fetch tests without a network. */
export async function startLoopbackServer(): Promise<LoopbackServer> {
  const routes = new Map<string, Route>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const route = routes.get(path) ?? { status: 404 };
    if ('status' in route) {
      res.writeHead(route.status, { 'content-type': 'text/plain' });
      res.end(`status ${route.status}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': route.body.length });
    if ('sendBytes' in route) {
      res.write(route.body.subarray(0, route.sendBytes), () => res.destroy());
      return;
    }
    res.end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    routes,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
