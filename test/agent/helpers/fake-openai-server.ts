import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted assistant answer. */
export interface ScriptedReply {
  /** Answer this HTTP error instead of a completion. */
  status?: number;
  /** The error body's code and message (default: a server_error naming the status). */
  error?: { code?: string; message?: string; type?: string };
  /** Extra response headers (Retry-After, retry-after-ms). */
  headers?: Record<string, string>;
  /** Close the connection without answering (a network error). */
  hangUp?: boolean;
  content?: string | null;
  refusal?: string;
  tool_calls?: { name: string; arguments: string }[];
  /** The completion's usage (default 10 prompt and 5 completion tokens). */
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export interface ChatRequest {
  headers: IncomingHttpHeaders;
  /** When it arrived (Date.now()). */
  receivedAt: number;
  body: {
    model: string;
    messages: { role: string; content?: unknown; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }[];
    tools?: { type: string; function: { name: string; description?: string; parameters?: Record<string, unknown> } }[];
    tool_choice?: unknown;
    temperature?: number;
  };
}

/**
 * A scripted stand-in for the chat-completions API on loopback: answers come from a
 * list, or from a function of the request; every request is kept for inspection.
 */
export class FakeOpenAiServer {
  readonly requests: ChatRequest[] = [];
  private server: Server | null = null;
  private calls = 0;

  constructor(private readonly script: ScriptedReply[] | ((request: ChatRequest, index: number) => ScriptedReply)) {}

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      const request: ChatRequest = { headers: req.headers, receivedAt: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
      this.requests.push(request);
      const index = this.calls++;
      const reply =
        typeof this.script === 'function'
          ? this.script(request, index)
          : (this.script[index] ?? { tool_calls: [{ name: 'submit_model', arguments: '{}' }] });
      if (reply.hangUp) {
        req.socket.destroy();
        return;
      }
      if (reply.status !== undefined) {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        const error = { message: `scripted failure ${reply.status}`, type: 'server_error', code: null, ...reply.error };
        res.end(JSON.stringify({ error }));
        return;
      }
      const toolCalls = (reply.tool_calls ?? []).map((c, i) => ({
        id: `call_${index}_${i}`,
        type: 'function',
        function: { name: c.name, arguments: c.arguments },
      }));
      res.writeHead(200, { 'content-type': 'application/json', ...reply.headers });
      res.end(
        JSON.stringify({
          id: `chatcmpl-${index}`,
          object: 'chat.completion',
          created: 1700000000,
          model: request.body.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: reply.content ?? null, refusal: reply.refusal ?? null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
              finish_reason: toolCalls.length ? 'tool_calls' : 'stop',
              logprobs: null,
            },
          ],
          usage: usageOf(reply),
        }),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/v1`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** A call as the script writes it. */
export const call = (name: string, args: Record<string, unknown> = {}) => ({ name, arguments: JSON.stringify(args) });

function usageOf(reply: ScriptedReply) {
  const { prompt_tokens, completion_tokens } = reply.usage ?? { prompt_tokens: 10, completion_tokens: 5 };
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}
