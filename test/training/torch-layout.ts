import { chwIndexOfHwc } from '../../layers/training/src/model/init';
import type { ModelKind } from '../../layers/training/src/model/architectures';

/** Dense layers fed by a flatten of NHWC activations: (channels, height, width) of that input. */
const FLATTENED_INPUTS: Record<string, [number, number, number]> = {
  'small_cnn classifier.1.weight': [64, 7, 7],
  'deeper_cnn classifier.1.weight': [128, 4, 4],
};

/** A parameter in PyTorch's layout (conv OIHW, linear [out, in] with PyTorch's input order). */
export function toTorchLayout(kind: ModelKind, name: string, shape: number[], data: Float32Array): Float32Array {
  if (shape.length === 4) {
    const [k, , inC, out] = shape as [number, number, number, number];
    const r = new Float32Array(data.length);
    for (let o = 0; o < out; o++)
      for (let i = 0; i < inC; i++)
        for (let y = 0; y < k; y++)
          for (let x = 0; x < k; x++) r[((o * inC + i) * k + y) * k + x] = data[((y * k + x) * inC + i) * out + o]!;
    return r;
  }
  if (shape.length === 2) {
    const [inF, out] = shape as [number, number];
    const flat = FLATTENED_INPUTS[`${kind} ${name}`];
    const torchIndex = flat ? chwIndexOfHwc(...flat) : (i: number) => i;
    const r = new Float32Array(data.length);
    for (let i = 0; i < inF; i++) for (let o = 0; o < out; o++) r[o * inF + torchIndex(i)] = data[i * out + o]!;
    return r;
  }
  return data;
}
