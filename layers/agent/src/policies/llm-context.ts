import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

/** What the model must still know once its older turns are dropped. */
export interface ConversationDigest {
  /** One line per executed call: "step 2 run_epochs {"num_epochs":5}". */
  playedCalls: string[];
  /** The latest tool result (or the initial observation), as the model read it. */
  latestResult: string;
  /** "12 of 15 tool calls left." */
  stepsLeft: string;
}

/**
 * The conversation cut to fit a context window that overflowed: the system prompt, then one
 * user message with the calls made so far and the latest result. Every turn goes, not only
 * the oldest: a kept assistant turn needs all of its tool answers, and the digest is what a
 * shorter conversation could still tell the model.
 */
export function compactConversation(messages: ChatCompletionMessageParam[], digest: ConversationDigest): ChatCompletionMessageParam[] {
  const system = messages.find((m) => m.role === 'system');
  const calls = digest.playedCalls.length === 0 ? ['(none yet)'] : digest.playedCalls;
  const content = [
    'The earlier turns of this conversation were dropped to fit your context window; the rules above still hold.',
    'Your calls so far:',
    ...calls,
    'The latest result:',
    digest.latestResult,
    `${digest.stepsLeft} Make your next call.`,
  ].join('\n');
  return [...(system ? [system] : []), { role: 'user', content }];
}
