import { z } from 'zod';

/**
 * Who played an episode and why each step was taken: the agent label an episode carries from
 * its creation (policy, model, a free-form version) and the short reason a step may carry.
 * Every interface (REST, OpenEnv, MCP, JSON-RPC, the cloud API) accepts them with these
 * schemas; the record stores them; reports, the leaderboard and the batch report group by
 * agentLabelKey.
 */

export const AGENT_POLICY_MAX_LENGTH = 64;
export const AGENT_MODEL_MAX_LENGTH = 128;
export const AGENT_VERSION_MAX_LENGTH = 64;

/** Longest reason a step may carry, in characters (a few sentences; a chat model's message is cut to it by the client). */
export const STEP_REASON_MAX_LENGTH = 1000;

// No control characters in a label: it is shown in tables, HTML and terminals on one line.
const LABEL_TEXT = /^[^\p{Cc}]*$/u;
// A reason may span lines (\n, \t); no other control characters (terminal escapes).
const REASON_TEXT = /^[^\x00-\x08\x0b-\x1f\x7f]*$/;

const labelText = (max: number) =>
  z.string().min(1).max(max).regex(LABEL_TEXT, 'must not contain control characters');

export const agentLabelSchema = z
  .object({
    /** The policy or agent family: "baseline", "llm", "my-agent". */
    policy: labelText(AGENT_POLICY_MAX_LENGTH),
    /** The model behind it, where there is one: "gpt-4o-mini". */
    model: labelText(AGENT_MODEL_MAX_LENGTH).optional(),
    /** Free-form: a prompt revision, a commit. */
    version: labelText(AGENT_VERSION_MAX_LENGTH).optional(),
  })
  .strict();

export type AgentLabel = z.infer<typeof agentLabelSchema>;

export const stepReasonSchema = z
  .string()
  .max(STEP_REASON_MAX_LENGTH)
  .regex(REASON_TEXT, 'must not contain control characters other than newline and tab');

/** What an episode without a label is grouped under. */
export const UNLABELLED_AGENT = 'unlabelled';

/** The label as one string, the key episodes are grouped by: "llm gpt-4o-mini @v3", "baseline". */
export function agentLabelKey(label: AgentLabel | null | undefined): string {
  if (!label) return UNLABELLED_AGENT;
  return [label.policy, label.model, label.version === undefined ? undefined : `@${label.version}`]
    .filter((part) => part !== undefined)
    .join(' ');
}

/**
 * A reason as a client should send it: control characters other than newline and tab
 * removed, cut to the limit with an ellipsis. Undefined for no text.
 */
export function boundedReason(text: string | null | undefined): string | undefined {
  if (text === null || text === undefined) return undefined;
  const clean = text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trim();
  if (clean === '') return undefined;
  return clean.length <= STEP_REASON_MAX_LENGTH ? clean : `${clean.slice(0, STEP_REASON_MAX_LENGTH - 1)}…`;
}
