import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { ModelUsage } from '../policy';

/**
 * The chat API failed for good (after the SDK's retries): what it answered and what to do next,
 * and what the episode had spent on the model until then (an eval still counts its cost).
 */
export class LlmApiError extends Error {
  override readonly name = 'LlmApiError';

  constructor(
    message: string,
    /** The HTTP status of the last attempt; undefined when the endpoint was not reached. */
    readonly status: number | undefined,
    readonly attempts: number,
    readonly usage: ModelUsage,
  ) {
    super(message);
  }
}

// OpenAI's code for it; compatible servers (vLLM, llama.cpp, Ollama) often say it in words only.
const CONTEXT_CODE = 'context_length_exceeded';
const CONTEXT_WORDS = /context length|context window|maximum context|too many tokens|prompt is too long/i;

/** A 400 saying the conversation no longer fits the model's context window. */
export function isContextLengthExceeded(e: unknown): boolean {
  if (!(e instanceof APIError) || e.status !== 400) return false;
  return e.code === CONTEXT_CODE || CONTEXT_WORDS.test(e.message);
}

/** The failure of one chat request as an error naming the status and the next step. */
export function llmApiError(e: unknown, attempts: number, usage: ModelUsage): LlmApiError {
  const fail = (message: string, status?: number) => new LlmApiError(message, status, attempts, usage);
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  if (e instanceof APIConnectionTimeoutError) {
    return fail(`the chat API did not answer in time (${tries}); check the endpoint (OPENAI_BASE_URL) or raise the timeout`);
  }
  if (e instanceof APIConnectionError) {
    return fail(`the chat API could not be reached (${tries}: ${e.message}); check OPENAI_BASE_URL and the network, then run again`);
  }
  if (!(e instanceof APIError) || e.status === undefined) return fail(`the chat API call failed: ${(e as Error)?.message ?? String(e)}`);
  const said = `${e.status}: ${e.message.replace(/^\d+\s+/, '')}`;
  return fail(`the chat API answered ${said} (${tries}); ${nextStep(e.status, usage.model)}`, e.status);
}

function nextStep(status: number, model: string): string {
  if (status === 401) return 'the key was refused: check OPENAI_API_KEY (and OPENAI_BASE_URL), then run again';
  if (status === 403) return `the key may not use model ${model}: check the account's access or pick another --model`;
  if (status === 404) return `check the model name (${model}) and OPENAI_BASE_URL (it should end in /v1)`;
  if (status === 429) return 'rate limited or out of quota: wait and run again, allow more retries (--llm-retries), lower the concurrency, or check the quota';
  if (status >= 500) return 'the endpoint kept failing: run again later or allow more retries (--llm-retries)';
  return `the endpoint refused the request: check that ${model} supports tool calling on this endpoint`;
}
