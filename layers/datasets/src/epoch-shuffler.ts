import { TorchGenerator } from './torch-generator';

const STATE_MAGIC = 0x53484631; // "SHF1"
const HEADER_BYTES = 12;

/**
 * The training order of each epoch, as `DataLoader(dataset, shuffle=True, generator=g)`
 * with `g = torch.Generator().manual_seed(seed)` produces it when every epoch is iterated
 * to the end. Per epoch the loader's generator gives:
 * 1. one 64-bit draw: the iterator's base seed (`_base_seed`), unused here;
 * 2. `randperm(n)`: the order of the epoch;
 * 3. `randperm(n)` again: RandomSampler's zero-length remainder slice, drawn and discarded.
 */
export class EpochShuffler {
  private constructor(
    readonly trainSize: number,
    private readonly generator: TorchGenerator,
    private epochs: number,
  ) {}

  static seeded(seed: number | bigint, trainSize: number): EpochShuffler {
    if (!Number.isSafeInteger(trainSize) || trainSize < 0) {
      throw new RangeError(`trainSize must be a non-negative integer, got ${trainSize}`);
    }
    return new EpochShuffler(trainSize, TorchGenerator.seeded(seed), 0);
  }

  /** Epoch orders drawn so far. */
  get epochsDrawn(): number {
    return this.epochs;
  }

  /** The next epoch's order: a permutation of 0..trainSize-1. */
  nextEpochOrder(): Int32Array {
    this.generator.nextUint64();
    const order = this.generator.randperm(this.trainSize);
    this.generator.randperm(this.trainSize);
    this.epochs++;
    return order;
  }

  /** magic, trainSize, epochs drawn (uint32 little-endian), then the generator's state. */
  saveState(): Uint8Array {
    const generatorState = this.generator.saveState();
    const out = new Uint8Array(HEADER_BYTES + generatorState.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, STATE_MAGIC, true);
    view.setUint32(4, this.trainSize, true);
    view.setUint32(8, this.epochs, true);
    out.set(generatorState, HEADER_BYTES);
    return out;
  }

  static fromState(state: Uint8Array): EpochShuffler {
    const expected = HEADER_BYTES + TorchGenerator.STATE_BYTES;
    if (state.byteLength !== expected) {
      throw new Error(`epoch shuffler state must be ${expected} bytes, got ${state.byteLength}`);
    }
    const view = new DataView(state.buffer, state.byteOffset, state.byteLength);
    if (view.getUint32(0, true) !== STATE_MAGIC) {
      throw new Error('epoch shuffler state has the wrong magic: not a saved EpochShuffler state');
    }
    const trainSize = view.getUint32(4, true);
    const epochs = view.getUint32(8, true);
    const generator = TorchGenerator.fromState(state.subarray(HEADER_BYTES));
    return new EpochShuffler(trainSize, generator, epochs);
  }
}
