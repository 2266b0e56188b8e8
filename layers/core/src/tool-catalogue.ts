import { z } from 'zod';
import { learningRateSchema, trainingConfigSchema } from './training-config';

export const MAX_EPOCHS_PER_CALL = 20;

const runEpochsSchema = z
  .object({
    num_epochs: z
      .number()
      .int()
      .default(10)
      .describe(`How many epochs to train: an integer, clamped to 1..${MAX_EPOCHS_PER_CALL} and to the unspent budget.`),
  })
  .strict();

const adjustLearningRateSchema = z.object({ new_lr: learningRateSchema }).strict();

const toggleAugmentationSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Augmentation on (true) or off (false).'),
    strength: z.number().default(0.5).describe('Augmentation strength, clamped to [0, 1].'),
  })
  .strict();

const noArgumentsSchema = z.object({}).strict();

/** One tool as every interface (OpenEnv, MCP, REST, the LLM agent) describes it. */
export interface ToolDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  schema: S;
}

function tool<S extends z.ZodType>(name: string, description: string, schema: S): ToolDefinition<S> {
  return { name, description, schema };
}

export const TOOLS = {
  configure_training: tool(
    'configure_training',
    'Apply a full training configuration (every field optional; omitted fields take their defaults). ' +
      'The first call builds the model. A later call that changes dropout builds a fresh model: weights, ' +
      'histories and best accuracy start over, but epochs already spent stay spent. Other changes keep the ' +
      'weights; optimizer state is kept when the optimizer kind is unchanged; the learning-rate schedule ' +
      'restarts over the unspent budget from learning_rate.',
    trainingConfigSchema,
  ),
  run_epochs: tool(
    'run_epochs',
    'Train the configured model for num_epochs epochs (clamped to 1-20 and to the unspent budget), ' +
      'evaluating on the validation set after each epoch. Returns the metrics and convergence signal.',
    runEpochsSchema,
  ),
  adjust_learning_rate: tool(
    'adjust_learning_rate',
    'Set the learning rate used from the next epoch on. An active schedule keeps its shape, rescaled so ' +
      'that its current value equals new_lr.',
    adjustLearningRateSchema,
  ),
  toggle_augmentation: tool(
    'toggle_augmentation',
    'Turn training-data augmentation on or off and set its strength. Changes only the data pipeline: ' +
      'optimizer state and schedule progress are untouched.',
    toggleAugmentationSchema,
  ),
  get_training_status: tool(
    'get_training_status',
    'Return the current metrics and configuration. Trains nothing.',
    noArgumentsSchema,
  ),
  submit_model: tool(
    'submit_model',
    'Submit the model: the episode is graded on the best validation accuracy the current model reached, and ends.',
    noArgumentsSchema,
  ),
} as const;

export type ToolName = keyof typeof TOOLS;
export const TOOL_NAMES = Object.keys(TOOLS) as ToolName[];

export type ToolArguments<N extends ToolName> = z.output<(typeof TOOLS)[N]['schema']>;

export function isToolName(name: unknown): name is ToolName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(TOOLS, name);
}

/** A tool as JSON: its name, description and argument JSON Schema (what a caller may send). */
export interface ToolDescription {
  name: ToolName;
  description: string;
  input_schema: Record<string, unknown>;
}

export function describeTools(): ToolDescription[] {
  return TOOL_NAMES.map((name) => {
    const { description, schema } = TOOLS[name];
    const jsonSchema = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
    delete jsonSchema.$schema;
    return { name, description, input_schema: withoutSafeIntegerBounds(jsonSchema) };
  });
}

/** zod marks every integer with ±MAX_SAFE_INTEGER bounds; they say nothing to a caller. */
function withoutSafeIntegerBounds(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const property of Object.values(properties)) {
    if (property.maximum === Number.MAX_SAFE_INTEGER) delete property.maximum;
    if (property.minimum === Number.MIN_SAFE_INTEGER) delete property.minimum;
  }
  return schema;
}
