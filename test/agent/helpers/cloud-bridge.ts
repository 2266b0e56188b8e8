import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cloud } from '../../functions/helpers';

/** The cloud's api handler behind a loopback HTTP server, as API Gateway puts it (x-api-key → the key's id, the tenant). */
export async function serveCloudApi(target: Cloud): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const u = new URL(req.url ?? '/', 'http://bridge');
      const key = req.headers['x-api-key'];
      const answer = await target.api(req.method ?? 'GET', u.pathname, {
        ...(text === '' ? {} : { body: text }),
        apiKeyId: typeof key === 'string' ? key : null,
        query: Object.fromEntries(u.searchParams),
      });
      const headers = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => ['content-type', 'location', 'retry-after'].includes(k.toLowerCase())));
      res.writeHead(answer.status, headers);
      res.end(answer.raw.body ?? '');
    })().catch((error: unknown) => {
      res.writeHead(599);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
