/**
 * A random generator that draws exactly what PyTorch's CPU generator draws:
 * a 32-bit Mersenne Twister (mt19937) seeded like `torch.Generator().manual_seed(seed)`,
 * with `randperm` as PyTorch's CPU kernel computes it. Its whole state can be saved
 * and restored, so a shuffled loader continues exactly after a checkpoint.
 */
const N = 624;
const M = 397;
const STATE_BYTES = 4 + N * 4;
/** PyTorch's randperm uses 32-bit draws only below this size (uint32 max / 20). */
const MAX_RANDPERM_N = Math.floor(0xffffffff / 20);
const MIN_SEED = -(1n << 63n);
const MAX_SEED = (1n << 64n) - 1n;

function checkedSeed(seed: number | bigint): bigint {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer (pass a bigint beyond 2^53), got ${seed}`);
  }
  const value = BigInt(seed);
  if (value < MIN_SEED || value > MAX_SEED) {
    throw new RangeError(`seed must be in [-2^63, 2^64 - 1] as in PyTorch, got ${value}`);
  }
  return value;
}

export class TorchGenerator {
  private constructor(
    private readonly mt: Uint32Array,
    private index: number,
  ) {}

  /**
   * Seeds as `torch.Generator().manual_seed(seed)` does. PyTorch accepts integers in
   * [-2^63, 2^64 - 1], maps negative ones to 2^64 + seed, and gives mt19937 only the low
   * 32 bits: seeds 5 and 2^32 + 5 draw the same numbers (checked against torch 2.13).
   */
  static seeded(seed: number | bigint): TorchGenerator {
    const mt = new Uint32Array(N);
    mt[0] = Number(BigInt.asUintN(32, checkedSeed(seed)));
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    return new TorchGenerator(mt, N);
  }

  /** One 32-bit word (`generator->random()` in PyTorch). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** One 64-bit draw (`generator->random64()`: two words, the first one high). */
  nextUint64(): bigint {
    const hi = BigInt(this.nextUint32());
    const lo = BigInt(this.nextUint32());
    return (hi << 32n) | lo;
  }

  /** A float in [0, 1) with 24 random bits, as PyTorch's `uniform_` draws for float32. */
  nextFloat(): number {
    return (this.nextUint32() & 0xffffff) / 0x1000000;
  }

  /**
   * `torch.randperm(n, generator=g)` on the CPU: Fisher–Yates from the front with one
   * 32-bit word per swap. (PyTorch switches to 64-bit draws from n ≥ 2^32/20, far beyond
   * any dataset here; such n are refused rather than drawn differently.)
   */
  randperm(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n >= MAX_RANDPERM_N) {
      throw new RangeError(`randperm size must be an integer in 0..${MAX_RANDPERM_N - 1}, got ${n}`);
    }
    const r = new Int32Array(n);
    for (let i = 0; i < n; i++) r[i] = i;
    for (let i = 0; i < n - 1; i++) {
      const z = this.nextUint32() % (n - i);
      const t = r[i];
      r[i] = r[i + z];
      r[i + z] = t;
    }
    return r;
  }

  /** The whole state: the position in the current block, then the 624 state words (little-endian). */
  saveState(): Uint8Array {
    const out = new Uint8Array(STATE_BYTES);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.index, true);
    for (let i = 0; i < N; i++) view.setUint32(4 + i * 4, this.mt[i], true);
    return out;
  }

  static fromState(state: Uint8Array): TorchGenerator {
    if (state.byteLength !== STATE_BYTES) {
      throw new Error(`generator state must be ${STATE_BYTES} bytes, got ${state.byteLength}`);
    }
    const view = new DataView(state.buffer, state.byteOffset, state.byteLength);
    const index = view.getUint32(0, true);
    if (index > N) throw new Error(`generator state index ${index} is out of range 0..${N}`);
    const mt = new Uint32Array(N);
    for (let i = 0; i < N; i++) mt[i] = view.getUint32(4 + i * 4, true);
    return new TorchGenerator(mt, index);
  }

  static readonly STATE_BYTES = STATE_BYTES;

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }
}
