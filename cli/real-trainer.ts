import type { TrainerFactory } from '../layers/core/src';

export interface RealTrainerOptions {
  dataDir?: string;
  allowUnverified: boolean;
  onWarning: (message: string) => void;
  onProgress: (message: string) => void;
}

/** The tfjs-node trainer reading the task's dataset subset. */
export function realTrainerFactory(_options: RealTrainerOptions): TrainerFactory {
  throw new Error('the tfjs trainer is not wired yet');
}
