import type { ModelUsage } from '../policy';

/** The fetch the openai SDK calls for every HTTP attempt (its `fetch` client option). */
export type ChatFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The tokens a chat completion reports (OpenAI's `usage`; absent on some compatible endpoints). */
export interface ReportedTokens {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
}

/** One attempt sent again, as progress output tells it. */
export interface RetryNote {
  /** 1 for the first retry of a request. */
  retry: number;
  /** What the previous attempt got: "answered 429", "unreachable (fetch failed)". */
  previous: string;
}

// The SDK numbers each attempt of one request in this header (0 for the first).
const RETRY_COUNT_HEADER = 'x-stainless-retry-count';

/**
 * What one episode spent on its chat API. The openai SDK retries 429/5xx and network errors
 * inside one `create()` call (backoff, Retry-After), so only the fetch it is given sees the
 * retries: `countingFetch` wraps that fetch and counts them.
 */
export class LlmUsageMeter {
  private requests = 0;
  private retries = 0;
  private promptTokens = 0;
  private completionTokens = 0;
  private attemptsOfRequest = 0;
  private previousFailure = '';

  constructor(private readonly model: string) {}

  countingFetch(inner: ChatFetch, onRetry?: (note: RetryNote) => void): ChatFetch {
    return async (input, init) => {
      this.attemptsOfRequest += 1;
      const retry = Number(new Headers(init?.headers).get(RETRY_COUNT_HEADER) ?? 0);
      if (retry > 0) {
        this.retries += 1;
        onRetry?.({ retry, previous: this.previousFailure });
      }
      try {
        const response = await inner(input, init);
        this.previousFailure = response.ok ? '' : `answered ${response.status}`;
        return response;
      } catch (e) {
        this.previousFailure = `unreachable (${(e as Error)?.message ?? String(e)})`;
        throw e;
      }
    };
  }

  /** A chat request starts (its attempts are counted from here). */
  startRequest(): void {
    this.requests += 1;
    this.attemptsOfRequest = 0;
  }

  /** HTTP attempts of the current request so far, the first included. */
  attempts(): number {
    return this.attemptsOfRequest;
  }

  addTokens(tokens: ReportedTokens | null | undefined): void {
    this.promptTokens += tokens?.prompt_tokens ?? 0;
    this.completionTokens += tokens?.completion_tokens ?? 0;
  }

  usage(): ModelUsage {
    return {
      model: this.model,
      requests: this.requests,
      retries: this.retries,
      prompt_tokens: this.promptTokens,
      completion_tokens: this.completionTokens,
    };
  }
}
