import { EpochShuffler, TorchGenerator } from '../../datasets/src';

/** Seed offset of the augmentation stream, so that it is independent of the others. */
const AUGMENT_SEED_SALT = 0x61756721; // "aug!"

export interface RngState {
  global: Uint8Array;
  augment: Uint8Array;
  /** Null until the first training epoch (the shuffler needs the training-set size). */
  shuffler: Uint8Array | null;
}

/**
 * The trainer's random streams, all seeded from the episode seed and all checkpointed:
 * - global: plays PyTorch's global generator: initial weights (as `torch.manual_seed(seed)`
 *   then the model's construction draws them) and one word per training batch seeding the
 *   batch's dropout masks;
 * - augment: the per-sample augmentation parameters;
 * - shuffler: the training loader's generator (`DataLoader(shuffle=True, generator=g)`).
 */
export class RngStreams {
  private constructor(
    readonly global: TorchGenerator,
    readonly augment: TorchGenerator,
    private shufflerState: EpochShuffler | null,
    private readonly seed: number,
  ) {}

  static seeded(seed: number): RngStreams {
    return new RngStreams(TorchGenerator.seeded(seed), TorchGenerator.seeded((seed ^ AUGMENT_SEED_SALT) >>> 0), null, seed);
  }

  static restore(seed: number, state: RngState): RngStreams {
    const shuffler = state.shuffler ? EpochShuffler.fromState(state.shuffler) : null;
    return new RngStreams(TorchGenerator.fromState(state.global), TorchGenerator.fromState(state.augment), shuffler, seed);
  }

  /** The epoch shuffler for a training set of this size, created on first use. */
  shuffler(trainSize: number): EpochShuffler {
    this.shufflerState ??= EpochShuffler.seeded(this.seed, trainSize);
    if (this.shufflerState.trainSize !== trainSize) {
      throw new Error(`the saved epoch shuffler is for ${this.shufflerState.trainSize} training samples, the data has ${trainSize}`);
    }
    return this.shufflerState;
  }

  save(): RngState {
    return {
      global: this.global.saveState(),
      augment: this.augment.saveState(),
      shuffler: this.shufflerState ? this.shufflerState.saveState() : null,
    };
  }
}
