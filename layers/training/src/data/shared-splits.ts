import type { TaskData } from '../../../datasets/src';
import { splitTensors, type SplitTensors } from './split-tensors';

/** Both splits of a task's data, normalised on the device. */
export interface DeviceSplits {
  train: SplitTensors;
  val: SplitTensors;
}

/** A trainer's hold on the splits of one TaskData; `release` it once, when the trainer goes. */
export interface SplitsLease {
  splits: DeviceSplits;
  release(): void;
}

interface Entry {
  splits: DeviceSplits;
  users: number;
  timer: NodeJS.Timeout | null;
}

/**
 * The normalised split tensors of each TaskData, made once and shared by the trainers that
 * read them (training and evaluation only slice and gather them). A step restores a new
 * trainer from its checkpoint, so without sharing every step would normalise and upload
 * both splits again before its first batch (easy_mnist ~10 ms, hard_cifar ~0.2 s). The
 * splits are freed `keepMs` after their last trainer is disposed (0: at once), so that
 * the next step of the same episode finds them; the timer does not hold the process open.
 */
export class SharedSplits {
  private readonly entries = new Map<TaskData, Entry>();

  constructor(private readonly keepMs = 0) {
    if (!(keepMs >= 0)) throw new RangeError(`keepMs must be ≥ 0, got ${keepMs}`);
  }

  /** How many TaskData have their splits on the device now. */
  get size(): number {
    return this.entries.size;
  }

  acquire(data: TaskData): SplitsLease {
    let entry = this.entries.get(data);
    if (!entry) {
      entry = { splits: makeSplits(data), users: 0, timer: null };
      this.entries.set(data, entry);
    }
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.users++;
    const held = entry;
    let released = false;
    return {
      splits: held.splits,
      release: () => {
        if (released) return;
        released = true;
        this.release(data, held);
      },
    };
  }

  private release(data: TaskData, entry: Entry): void {
    if (--entry.users > 0) return;
    if (this.keepMs === 0) {
      this.free(data, entry);
      return;
    }
    entry.timer = setTimeout(() => this.free(data, entry), this.keepMs);
    entry.timer.unref();
  }

  private free(data: TaskData, entry: Entry): void {
    if (entry.users > 0 || this.entries.get(data) !== entry) return;
    this.entries.delete(data);
    disposeSplits(entry.splits);
  }
}

function makeSplits(data: TaskData): DeviceSplits {
  const train = splitTensors(data, 'train');
  try {
    return { train, val: splitTensors(data, 'val') };
  } catch (e) {
    train.images.dispose();
    train.labels.dispose();
    throw e;
  }
}

function disposeSplits(splits: DeviceSplits): void {
  for (const s of [splits.train, splits.val]) {
    s.images.dispose();
    s.labels.dispose();
  }
}
