/**
 * TensorFlow prints INFO lines when tfjs-node loads (the CPU feature guard's "This TensorFlow
 * binary is optimized..."), in every process that trains: the CLI, the server, each trainer
 * worker. Its own switch, TF_CPP_MIN_LOG_LEVEL, is read when the library loads, so this layer's
 * index imports this module before anything loads tfjs-node; children inherit the variable.
 * Level 1 hides INFO and keeps TensorFlow's warnings and errors. A level already set wins:
 * the CLI's --verbose sets 0 (everything) before the layer loads.
 * Not silenced here: libtensorflow writes its oneDNN notice during its own static
 * initialisation, before any log level applies (only TF_ENABLE_ONEDNN_OPTS=0 removes it, and
 * that changes the kernels, hence the numbers).
 */
export const TENSORFLOW_LOG_LEVEL_ENV = 'TF_CPP_MIN_LOG_LEVEL';

/** TensorFlow's INFO lines off unless `env` already sets a level; returns the level in force. */
export function quietTensorFlowLogs(env: NodeJS.ProcessEnv = process.env): string {
  const level = env[TENSORFLOW_LOG_LEVEL_ENV];
  if (level !== undefined && level !== '') return level;
  env[TENSORFLOW_LOG_LEVEL_ENV] = '1';
  return '1';
}

quietTensorFlowLogs();
