/**
 * The training layer's facts that need no TensorFlow: a trainer-worker parent process and
 * the thread pinning (which must run before tfjs-node loads) import these, not the index.
 */
export { CheckpointError, CHECKPOINT_MAGIC, CHECKPOINT_VERSION, type CheckpointErrorCode } from './checkpoint';
export { processIntraOpThreads } from './thread-count';
