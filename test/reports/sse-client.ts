/** A minimal server-sent-events reader over fetch, for tests. */
export interface SseEvent {
  event: string;
  data: any;
  raw: string;
}

export interface SseClient {
  status: number;
  headers: Headers;
  events: SseEvent[];
  /** Resolves with the first event (from the start of the stream) of this type matching the predicate. */
  waitFor(type: string, predicate?: (data: any) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Why the stream broke (an event whose data is not JSON, a read error), or null; every waitFor rejects with it. */
  readonly failure: Error | null;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  let buffer = '';
  let failure: Error | null = null;
  const fail = (error: Error) => {
    failure ??= error;
    for (const w of waiters.splice(0)) w();
  };
  const ended = (async () => {
    if (!response.body) return;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue;
          const raw = data.join('\n');
          events.push({ event, data: parseData(event, raw), raw });
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch (error) {
      // close() aborts the read: that is the end, not a failure.
      if (controller.signal.aborted) return;
      fail(error instanceof Error ? error : new Error(String(error)));
      controller.abort(); // nothing more will be read: free the connection
    }
  })();
  return {
    status: response.status,
    headers: response.headers,
    events,
    ended,
    close: () => controller.abort(),
    get failure() {
      return failure;
    },
    waitFor(type, predicate = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} event within ${timeoutMs} ms; got ${events.map((e) => e.event).join(', ')}`)), timeoutMs);
        const check = () => {
          const found = events.find((e) => e.event === type && predicate(e.data));
          if (found || failure) clearTimeout(timer);
          if (found) resolve(found);
          else if (failure) reject(failure);
          else waiters.push(check);
        };
        check();
      });
    },
  };
}

function parseData(event: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new Error(`the server sent a ${event} event whose data is not JSON (${(error as Error).message}): ${raw.slice(0, 200)}`);
  }
}
