import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openSse } from './sse-client';

/** An SSE endpoint on 127.0.0.1 that writes the frames the test gives it, and never ends the stream itself. */
async function sseEndpoint() {
  const streams: http.ServerResponse[] = [];
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    streams.push(res);
    connected();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    ready,
    send: (frame: string) => streams.forEach((s) => s.write(frame)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the SSE test client', () => {
  it('fails every wait at once, naming the event, when an event\'s data is not JSON', async () => {
    const endpoint = await sseEndpoint();
    const client = await openSse(endpoint.url);
    try {
      await endpoint.ready;
      endpoint.send('event: epoch\ndata: {"index":1}\n\n');
      expect((await client.waitFor('epoch')).data).toEqual({ index: 1 });
      // A timeout would reject too, but with another message: only the parse error passes.
      const pending = client.waitFor('step_ended', undefined, 5_000);
      endpoint.send('event: step_ended\ndata: {"step": 3,\n\n');
      await expect(pending).rejects.toThrow('the server sent a step_ended event whose data is not JSON');
      await expect(client.waitFor('anything', undefined, 5_000)).rejects.toThrow('{"step": 3,');
      expect(client.failure?.message).toContain('step_ended');
    } finally {
      client.close();
      await endpoint.close();
    }
  });
});
