import OpenAI from 'openai';
import type {
  ChatCompletionFunctionTool,
  ChatCompletionMessage,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { accuracyScoreText, boundedReason, findTaskModule, type ToolCall, type ToolDescription } from '../../../core/src';
import type { TaskInfo, ToolOutcome } from '../environment';
import type { ModelUsage, Policy, PolicyContext, PolicyDecision, PolicyEpisode } from '../policy';
import { isContextLengthExceeded, llmApiError } from './llm-api-error';
import { compactConversation } from './llm-context';
import { LlmUsageMeter, type ChatFetch } from './llm-usage-meter';

export { LlmApiError } from './llm-api-error';
export type { ChatFetch } from './llm-usage-meter';

export interface LlmPolicyOptions {
  /** The chat model, e.g. gpt-4o-mini or whatever the endpoint serves. */
  model: string;
  /** The endpoint's key (OPENAI_API_KEY). Endpoints that need none may leave it out when baseURL is set. */
  apiKey?: string;
  /** An OpenAI-compatible endpoint (OPENAI_BASE_URL); default https://api.openai.com/v1. */
  baseURL?: string;
  temperature?: number;
  /** Upper bound on the tokens of one answer. */
  maxTokens?: number;
  /** Per-request timeout of the chat API (default 120 s). */
  timeoutMs?: number;
  /**
   * How often one chat request is sent again after a 429, a 5xx or a network error (default
   * DEFAULT_LLM_RETRIES). The openai SDK waits what Retry-After / retry-after-ms ask, else
   * backs off exponentially (0.5 s doubling to 8 s, with jitter).
   */
  maxRetries?: number;
  /**
   * How often one decision may be sent back to the model without a step (no tool call, a
   * refusal, or arguments that are not a JSON object) before the policy stops asking: default 2.
   */
  maxRepairsPerTurn?: number;
  /** The same, over the whole episode: default 6. */
  maxRepairsPerEpisode?: number;
  /** Tell the model the grade formula of the task (default true; it is part of the public contract). */
  explainGrading?: boolean;
  /** The HTTP transport of the chat API (proxies, tests); default the global fetch. */
  fetch?: ChatFetch;
}

const DEFAULT_TIMEOUT_MS = 120_000;
/** Retries of one chat request (429, 5xx, network errors) unless told otherwise. */
export const DEFAULT_LLM_RETRIES = 4;
/** The key under which malformed arguments are passed on once repairs are used up. */
export const UNPARSED_ARGUMENTS = 'unparsed_arguments';
/** The reason of a call the model made without any text. */
export const NO_TEXT_REASON = 'tool call without text';
const LOG_LIMIT = 300;
/** What complete() answers when the conversation does not fit even after dropping the older turns. */
const CONTEXT_FULL = Symbol('context full');

/**
 * Any OpenAI-compatible chat-completions model with tool calling plays the episode: the
 * tools come from the environment's JSON Schemas, every tool result goes back as a tool
 * message, and the conversation ends with the episode (at most the step limit of calls).
 * A turn without a tool call (text only, or a refusal) is nudged; arguments that are not a JSON
 * object are sent back with the parse error; both without spending a step, a bounded number of
 * times. When the bound is reached, malformed arguments go to the environment as
 * {unparsed_arguments: text} (an invalid call: it costs a step and the environment explains), and a
 * model that will not call a tool at all gets the episode submitted for it. Each call's reason is
 * the model's text. A conversation that outgrows the model's context is cut to the system prompt
 * and a digest (calls so far, latest result) and asked once more; if it still does not fit the
 * episode is submitted. The episode's usage() counts requests, retries and tokens.
 */
export function llmPolicy(options: LlmPolicyOptions): Policy {
  if (!options.model) throw new Error('llm policy: a model name is required');
  const client = new OpenAI({
    apiKey: options.apiKey ?? (options.baseURL ? 'not-needed' : undefined),
    baseURL: options.baseURL ?? null,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: options.maxRetries ?? DEFAULT_LLM_RETRIES,
  });
  return {
    name: 'llm',
    model: options.model,
    start: (context) => new LlmEpisode(client, options, context),
  };
}

/** A tool call the model asked for, with its arguments parsed (or why they could not be). */
interface PendingCall {
  id: string;
  name: string;
  args: Record<string, unknown> | null;
  raw: string;
  parseError: string | null;
  /** Why, as the step stores it: the model's text. */
  reason: string;
}

class LlmEpisode implements PolicyEpisode {
  private messages: ChatCompletionMessageParam[] = [];
  private readonly tools: ChatCompletionFunctionTool[];
  /** One client per episode: its fetch counts this episode's retries. */
  private readonly client: OpenAI;
  private readonly meter: LlmUsageMeter;
  /** The calls of the model's last answer that are not executed yet (the first is executing). */
  private queue: PendingCall[] = [];
  /** The call whose outcome the next `next()` brings, if the model made it. */
  private awaiting: PendingCall | null = null;
  private repairsLeft: number;
  private stepsUsed = 0;
  /** What survives a context overflow: one line per executed call, and the latest result. */
  private readonly playedCalls: string[] = [];
  private latestResult: string;

  constructor(
    client: OpenAI,
    private readonly options: LlmPolicyOptions,
    private readonly context: PolicyContext,
  ) {
    this.meter = new LlmUsageMeter(options.model);
    const retries = options.maxRetries ?? DEFAULT_LLM_RETRIES;
    this.client = client.withOptions({
      fetch: this.meter.countingFetch(options.fetch ?? globalThis.fetch, ({ retry, previous }) =>
        context.log?.(`chat API ${previous}; retrying (${retry} of ${retries})`),
      ),
    });
    this.tools = context.tools.map(toOpenAiTool);
    this.repairsLeft = options.maxRepairsPerEpisode ?? 6;
    this.latestResult = `Observation before any training: ${JSON.stringify(context.initialObservation)}`;
    this.messages.push({ role: 'system', content: systemPrompt(context, options.explainGrading ?? true) });
    this.messages.push({
      role: 'user',
      content: `The episode has started. ${this.latestResult}\nYou have ${context.maxSteps} tool calls in total. Make your first call.`,
    });
  }

  usage(): ModelUsage {
    return this.meter.usage();
  }

  async next(last: ToolOutcome | null): Promise<PolicyDecision> {
    if (last) this.stepsUsed = last.step;
    if (last && this.awaiting) this.answerCall(this.awaiting, last);
    const queued = this.queue.shift();
    if (queued) return this.execute(queued);
    return this.ask();
  }

  /** The outcome of the executing call goes back to the model as its tool message. */
  private answerCall(call: PendingCall, outcome: ToolOutcome): void {
    const note = call.parseError === null ? '' : `Your arguments were not a JSON object (${call.parseError}); the call was rejected and used a step. `;
    this.latestResult = toolResultText(outcome, this.context.maxSteps);
    this.messages.push({ role: 'tool', tool_call_id: call.id, content: note + this.latestResult });
    this.playedCalls.push(playedCallLine(call, outcome));
    this.awaiting = null;
    if (outcome.error) this.dropQueue('not executed: the previous call of this turn failed');
  }

  /** Asks the model for the next call, repairing a bounded number of unusable answers. */
  private async ask(): Promise<PolicyDecision> {
    let repairsThisTurn = this.options.maxRepairsPerTurn ?? 2;
    for (;;) {
      const message = await this.complete();
      if (message === CONTEXT_FULL) {
        return submitFor(`the conversation no longer fits the context window of ${this.options.model} (context_length_exceeded), even with the older turns dropped: submitting the model as it is`);
      }
      const calls = (message?.tool_calls ?? []).filter((c): c is ChatCompletionMessageFunctionToolCall => c.type === 'function');
      const { text, refused } = messageText(message);
      this.messages.push(assistantMessage(text, calls));
      if (text) this.context.log?.(`${refused ? 'model refused' : 'model'}: ${truncate(text, LOG_LIMIT)}`);
      const canRepair = repairsThisTurn > 0 && this.repairsLeft > 0;
      if (calls.length === 0) {
        if (!canRepair) return submitFor(`the model stopped calling tools: submitting for it${text ? `. Its last words: ${text}` : ''}`);
        this.repairsLeft -= 1;
        repairsThisTurn -= 1;
        this.messages.push({
          role: 'user',
          content: `Reply with a tool call, not text: ${this.stepsLeftText()} If you are done, call submit_model.`,
        });
        continue;
      }
      const parsed = calls.map((c, i) => parseCall(c, callReason(text, i, calls.length)));
      if (parsed.some((c) => c.parseError !== null) && canRepair) {
        this.repairsLeft -= 1;
        repairsThisTurn -= 1;
        this.rejectMalformed(parsed);
        continue;
      }
      this.queue = parsed.slice(1);
      return this.execute(parsed[0]);
    }
  }

  /** Every call of an answer with malformed arguments is answered, none executed. */
  private rejectMalformed(parsed: PendingCall[]): void {
    for (const c of parsed) {
      this.messages.push({
        role: 'tool',
        tool_call_id: c.id,
        content:
          c.parseError !== null
            ? `Error: the arguments of ${c.name} are not a JSON object (${c.parseError}). Nothing was executed and no step was used. Call the tool again with arguments as a JSON object.`
            : 'Not executed: another call of this answer had invalid arguments. No step was used.',
      });
    }
  }

  /**
   * One answer of the model. A conversation over the model's context window is cut to the
   * system prompt and a digest, then asked once more; CONTEXT_FULL if it still does not fit.
   * Any other failure (after the SDK's retries) is an LlmApiError naming the status and the next step.
   */
  private async complete(): Promise<ChatCompletionMessage | undefined | typeof CONTEXT_FULL> {
    try {
      return await this.request();
    } catch (e) {
      if (!isContextLengthExceeded(e)) throw llmApiError(e, this.meter.attempts(), this.meter.usage());
    }
    this.messages = compactConversation(this.messages, { playedCalls: this.playedCalls, latestResult: this.latestResult, stepsLeft: this.stepsLeftText() });
    this.context.log?.(`the conversation outgrew the context window of ${this.options.model}: older turns dropped, asking again`);
    try {
      return await this.request();
    } catch (e) {
      if (isContextLengthExceeded(e)) return CONTEXT_FULL;
      throw llmApiError(e, this.meter.attempts(), this.meter.usage());
    }
  }

  private async request(): Promise<ChatCompletionMessage | undefined> {
    this.meter.startRequest();
    const response = await this.client.chat.completions.create({
      model: this.options.model,
      messages: this.messages,
      tools: this.tools,
      tool_choice: 'auto',
      ...(this.options.temperature !== undefined ? { temperature: this.options.temperature } : {}),
      ...(this.options.maxTokens !== undefined ? { max_tokens: this.options.maxTokens } : {}),
    });
    this.meter.addTokens(response.usage);
    return response.choices?.[0]?.message;
  }

  private execute(call: PendingCall): PolicyDecision {
    this.awaiting = call;
    // Arguments still malformed here (the repairs are used up) go as an object the environment rejects
    // as an invalid call, which costs a step; a bare string could not travel over the REST API.
    const args = call.parseError === null ? call.args : { [UNPARSED_ARGUMENTS]: truncate(call.raw, 500) };
    const toolCall: ToolCall = { tool: call.name, arguments: args };
    return { call: toolCall, reason: call.reason };
  }

  private dropQueue(why: string): void {
    for (const c of this.queue) this.messages.push({ role: 'tool', tool_call_id: c.id, content: `${why}. No step was used.` });
    this.queue = [];
  }

  private stepsLeftText(): string {
    return `${Math.max(0, this.context.maxSteps - this.stepsUsed)} of ${this.context.maxSteps} tool calls left.`;
  }
}

/** A call as the digest of a cut conversation lists it: "step 2 run_epochs {"num_epochs":5}". */
function playedCallLine(call: PendingCall, outcome: ToolOutcome): string {
  const args = call.parseError === null ? JSON.stringify(call.args) : call.raw;
  return truncate(`step ${outcome.step} ${call.name} ${args}${outcome.error ? ` (error: ${outcome.error.code})` : ''}`, 200);
}

/** The policy ends the episode in the model's place, saying why. */
function submitFor(why: string): PolicyDecision {
  return { call: { tool: 'submit_model', arguments: {} }, reason: boundedReason(why) };
}

/** The model's words: its content, else its refusal. */
function messageText(message: ChatCompletionMessage | undefined): { text: string; refused: boolean } {
  const content = typeof message?.content === 'string' ? message.content.trim() : '';
  if (content) return { text: content, refused: false };
  const refusal = typeof message?.refusal === 'string' ? message.refusal.trim() : '';
  return { text: refusal, refused: refusal !== '' };
}

/** The reason stored with the i-th of n calls of one answer: the model's text, bounded. */
function callReason(text: string, i: number, n: number): string {
  const words = boundedReason(text);
  if (n === 1) return words ?? NO_TEXT_REASON;
  return boundedReason(`call ${i + 1} of ${n} of one answer${words ? `: ${words}` : ` (${NO_TEXT_REASON})`}`)!;
}

function toOpenAiTool(tool: ToolDescription): ChatCompletionFunctionTool {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.input_schema } };
}

function parseCall(call: ChatCompletionMessageFunctionToolCall, reason: string): PendingCall {
  const raw = call.function.arguments ?? '';
  const base = { id: call.id, name: call.function.name, raw, reason };
  // Some endpoints send "" (or null) for a call without arguments.
  if (raw.trim() === '' || raw.trim() === 'null') return { ...base, args: {}, parseError: null };
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ...base, args: null, parseError: `got ${Array.isArray(value) ? 'an array' : typeof value}` };
    }
    return { ...base, args: value as Record<string, unknown>, parseError: null };
  } catch (e) {
    return { ...base, args: null, parseError: (e as Error).message };
  }
}

// A refusal goes back as content: not every compatible endpoint accepts the refusal field.
function assistantMessage(text: string, calls: ChatCompletionMessageFunctionToolCall[]): ChatCompletionMessageParam {
  const content = text === '' ? null : text;
  if (calls.length === 0) return { role: 'assistant', content: content ?? '' };
  return {
    role: 'assistant',
    content,
    tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments ?? '' } })),
  };
}

/** A tool result as the model reads it: the step count, the reward, and what the tool returned. */
function toolResultText(outcome: ToolOutcome, maxSteps: number): string {
  const stepsLeft = Math.max(0, maxSteps - outcome.step);
  return JSON.stringify({
    step: outcome.step,
    steps_left: stepsLeft,
    reward: outcome.reward,
    done: outcome.done,
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.grade ? { grade: outcome.grade } : {}),
    result: outcome.data,
  });
}

function gradingText(task: TaskInfo): string {
  return findTaskModule(task.task_id)?.grader.explain(task) ?? `score is based on ${accuracyScoreText(task)}.`;
}

function systemPrompt(context: PolicyContext, explainGrading: boolean): string {
  const task = context.task;
  const lines = [
    'You are an ML engineer. You train a real neural network in a training environment and act only by calling its tools.',
    '',
    `Task: ${task.name} (${task.task_id}, ${task.difficulty}).`,
    task.description,
    '',
    'Rules:',
    `- At most ${context.maxSteps} tool calls in the whole episode. Every call counts as a step, an invalid one too; the ${context.maxSteps}th call submits automatically.`,
    '- Every tool result already contains the current metrics; get_training_status is rarely worth a step.',
    `- The epoch budget is ${task.max_epochs} epochs for the whole episode and is never refunded. run_epochs trains 1 to 20 epochs per call.`,
    '- Call configure_training first. A later configure_training that changes dropout builds a fresh model (weights, history and best accuracy start over) but the spent epochs stay spent; other changes keep the weights, and the learning-rate schedule restarts over the unspent budget.',
    '- If training diverges (training loss NaN, infinite or above 100), the model trains no more until a configure_training that changes dropout.',
    '- submit_model ends the episode. The grade uses the best validation accuracy the current model reached.',
  ];
  if (explainGrading) lines.push('', `Grading: ${gradingText(task)}`);
  lines.push('', 'Make exactly one tool call per answer; keep any text short.');
  return lines.join('\n');
}

function truncate(text: string, limit: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length <= limit ? oneLine : `${oneLine.slice(0, limit - 1)}…`;
}
