import { STEP_REASON_MAX_LENGTH, taskIdsInWords } from '../../core/src';

/** GET /metadata's name: what tells an ml-trainer server from another program on a port. */
export const ENVIRONMENT_NAME = 'MLTrainerEnvironment';

/** GET /metadata, as EnvironmentMetadata (§4.5): name and description are strings, the rest string or null. */
export function environmentMetadata(version: string): Record<string, string | null> {
  return {
    name: ENVIRONMENT_NAME,
    description:
      'ML Training Optimizer: an agent configures real neural-network training (optimizer, learning rate and ' +
      `schedule, batch size, weight decay, dropout, augmentation) on ${taskIdsInWords()} ` +
      'through six tools, under an epoch budget and a 15-step limit, and is graded deterministically. ' +
      'Reset with {"task_id": ..., "seed": ..., "agent": {"policy": ..., "model": ..., "version": ...}}; a call_tool action may carry the agent\'s "reason".',
    readme_content: null,
    version,
    author: null,
    documentation_url: null,
  };
}

const toolErrorSchema = {
  additionalProperties: false,
  properties: {
    error_type: { $ref: '#/$defs/ToolErrorType' },
    message: { title: 'Message', type: 'string' },
  },
  required: ['error_type', 'message'],
  title: 'ToolError',
  type: 'object',
};

/** GET /schema (§4.6): the JSON Schemas of CallToolAction, CallToolObservation and State. */
export function environmentSchemas(): Record<string, Record<string, unknown>> {
  return {
    action: {
      additionalProperties: false,
      properties: {
        metadata: {
          additionalProperties: true,
          type: 'object',
          title: 'Metadata',
          description: 'Free-form; metadata.reason is read as the reason where the action model forbids an own reason key.',
        },
        type: { const: 'call_tool', default: 'call_tool', title: 'Type', type: 'string' },
        tool_name: { title: 'Tool Name', type: 'string', description: 'One of the tools list_tools returns.' },
        arguments: { additionalProperties: true, type: 'object', title: 'Arguments' },
        reason: {
          title: 'Reason',
          type: 'string',
          maxLength: STEP_REASON_MAX_LENGTH,
          description: "Ours: the agent's short reason for the call, stored with the step (newlines allowed, no other control characters).",
        },
      },
      required: ['tool_name'],
      title: 'CallToolAction',
      type: 'object',
    },
    observation: {
      $defs: {
        ToolError: toolErrorSchema,
        ToolErrorType: { enum: ['execution_error', 'invalid_args', 'transport_error', 'tool_not_found', 'timeout'], title: 'ToolErrorType', type: 'string' },
      },
      additionalProperties: false,
      properties: {
        done: { default: false, title: 'Done', type: 'boolean' },
        reward: { anyOf: [{ type: 'boolean' }, { type: 'integer' }, { type: 'number' }, { type: 'null' }], default: null, title: 'Reward' },
        metadata: { additionalProperties: true, type: 'object', title: 'Metadata' },
        tool_name: { title: 'Tool Name', type: 'string' },
        result: { default: null, title: 'Result' },
        error: { anyOf: [{ $ref: '#/$defs/ToolError' }, { type: 'null' }], default: null },
      },
      required: ['tool_name'],
      title: 'CallToolObservation',
      type: 'object',
    },
    state: {
      additionalProperties: true,
      properties: {
        episode_id: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null, title: 'Episode Id' },
        step_count: { default: 0, minimum: 0, title: 'Step Count', type: 'integer' },
      },
      title: 'State',
      type: 'object',
    },
  };
}
