/** The model architectures tasks train; the training layer maps each kind to its builder. */
export const MODEL_KINDS = ['simple_mlp', 'small_cnn', 'deeper_cnn'] as const;

export type ModelKind = (typeof MODEL_KINDS)[number];
