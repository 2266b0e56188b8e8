import type { TorchGenerator } from '../../../datasets/src';

/**
 * PyTorch's default initialisation of nn.Linear and nn.Conv2d, drawn exactly as
 * `tensor.uniform_(-bound, bound)` draws on the CPU: one 32-bit word per value, its low
 * 24 bits scaled to [0, 1), then `x * (to - from) + from` in float32 with one rounding.
 * With the generator seeded like `torch.manual_seed(seed)` and the parameters drawn in
 * module construction order, the first model is PyTorch's initial model bit for bit.
 */
export function torchUniform(g: TorchGenerator, count: number, bound: number): Float32Array {
  const from = Math.fround(-bound);
  const range = Math.fround(Math.fround(bound) - from);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const x = (g.nextUint32() & 0xffffff) / 0x1000000;
    out[i] = x * range + from; // x·range is exact in a double; the store rounds once to float32
  }
  return out;
}

/** kaiming_uniform_(w, a=√5): bound = √3 · gain / √fan_in with gain = √(2 / (1 + a²)). */
export function defaultWeightBound(fanIn: number): number {
  const a = Math.sqrt(5);
  const gain = Math.sqrt(2 / (1 + a * a));
  return Math.sqrt(3) * (gain / Math.sqrt(fanIn));
}

/** Bias bound of nn.Linear and nn.Conv2d: 1 / √fan_in. */
export function defaultBiasBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

/** PyTorch conv weight [out, in, kh, kw] → TensorFlow filter [kh, kw, in, out]. */
export function oihwToHwio(w: Float32Array, out: number, inC: number, k: number): Float32Array {
  const r = new Float32Array(w.length);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inC; i++)
      for (let y = 0; y < k; y++)
        for (let x = 0; x < k; x++) r[((y * k + x) * inC + i) * out + o] = w[((o * inC + i) * k + y) * k + x]!;
  return r;
}

/**
 * PyTorch linear weight [out, in] → [in, out]. `inputIndex(i)` maps our input position i to
 * PyTorch's: a flatten of NHWC activations orders features (h, w, c) where PyTorch's NCHW
 * flatten orders them (c, h, w).
 */
export function linearToInOut(w: Float32Array, out: number, inF: number, inputIndex: (i: number) => number = (i) => i): Float32Array {
  const r = new Float32Array(w.length);
  for (let i = 0; i < inF; i++) {
    const ti = inputIndex(i);
    for (let o = 0; o < out; o++) r[i * out + o] = w[o * inF + ti]!;
  }
  return r;
}

/** Position in PyTorch's (c, h, w) flatten of the feature at position i of an (h, w, c) flatten. */
export function chwIndexOfHwc(channels: number, height: number, width: number): (i: number) => number {
  return (i) => {
    const c = i % channels;
    const hw = (i - c) / channels;
    return c * height * width + hw;
  };
}
