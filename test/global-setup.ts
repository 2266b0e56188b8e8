import { quietTensorFlowLogs } from '../layers/training/src/tensorflow-logs';

/**
 * Runs once in jest's own process, before its workers start: they inherit the real environment,
 * which TensorFlow reads when a test loads tfjs-node (a test file's `process.env` is jest's copy).
 */
export default function globalSetup(): void {
  quietTensorFlowLogs(process.env);
}
