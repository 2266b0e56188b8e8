import * as tf from '@tensorflow/tfjs-node';
import { attr, lazyAttrs, runKernel, runKernelOutputs } from './kernels';
import { ResourceVariable } from './resource-variable';

const reshapeAttrs = lazyAttrs(() => [attr.dtype('T'), attr.dtype('Tshape', 'int32')]);

export interface NamedShape {
  name: string;
  shape: readonly number[];
}

/**
 * Tensors of at least this many values keep a variable of their own; the smaller ones are
 * packed end to end into one. Small models are bound by the number of kernels per batch
 * (each costs tens of µs to hand to TensorFlow's thread pool), so the optimizers update all
 * the small tensors with one kernel; copying a large tensor into a pack would cost more
 * than the kernel it saves.
 */
export const PACK_BELOW_VALUES = 16384;

interface Group {
  names: string[];
  shapes: number[][];
  sizes: number[];
  total: number;
  /** A packed group (two or more tensors) is 1-D; a lone tensor keeps its shape and needs no cutting. */
  packed: boolean;
}

/** How named tensors are grouped into variables: the small ones packed, the large ones alone, in order. */
export class PackedLayout {
  readonly names: readonly string[];
  readonly groups: readonly Group[];
  private constants: { sizes: tf.Tensor[]; axis: tf.Tensor; flat: tf.Tensor; shapes: Map<string, tf.Tensor> } | null = null;

  constructor(parts: readonly NamedShape[], packBelow = PACK_BELOW_VALUES) {
    if (parts.length === 0) throw new Error('a packed layout needs at least one tensor');
    this.names = parts.map((p) => p.name);
    const size = (p: NamedShape) => p.shape.reduce((a, b) => a * b, 1);
    const small = parts.filter((p) => size(p) < packBelow);
    const groups = parts.filter((p) => size(p) >= packBelow).map((p) => group([p], false));
    if (small.length > 0) groups.push(group(small, small.length > 1));
    this.groups = groups;
  }

  /** The named tensors as one tensor per group (reshapes and one concatenation per packed group). */
  pack(parts: ReadonlyMap<string, tf.Tensor>): tf.Tensor[] {
    return this.groups.map((g) => {
      const tensors = g.names.map((name) => {
        const t = parts.get(name);
        if (!t) throw new Error(`no tensor named ${name} to pack`);
        return t;
      });
      if (!g.packed) return tensors[0]!;
      const c = this.kernelConstants();
      const flat = tensors.map((t) => (t.rank === 1 ? t : reshape(t, c.flat)));
      return runKernel('ConcatV2', [attr.int('N', flat.length), attr.dtype('T'), attr.dtype('Tidx', 'int32')], [...flat, c.axis]);
    });
  }

  /** Group tensors cut back into the named tensors, in their shapes; takes ownership of `groups`. */
  unpack(groups: readonly tf.Tensor[]): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    this.groups.forEach((g, i) => {
      const t = groups[i]!;
      if (!g.packed) {
        out.set(g.names[0]!, t);
        return;
      }
      const c = this.kernelConstants();
      const pieces = runKernelOutputs('SplitV', [attr.int('num_split', g.names.length), attr.dtype('T'), attr.dtype('Tlen', 'int32')],
        [t, c.sizes[i]!, c.axis], g.names.length);
      t.dispose();
      g.names.forEach((name, j) => {
        const piece = pieces[j]!;
        if (g.shapes[j]!.length === 1) {
          out.set(name, piece);
        } else {
          out.set(name, reshape(piece, c.shapes.get(name)!));
          piece.dispose();
        }
      });
    });
    return out;
  }

  /** Host arrays by name, as one array per group. */
  packHost(values: ReadonlyMap<string, Float32Array>): Float32Array[] {
    return this.groups.map((g) => {
      const out = new Float32Array(g.total);
      let offset = 0;
      g.names.forEach((name, i) => {
        const v = values.get(name);
        if (!v) throw new Error(`no values for ${name}`);
        if (v.length !== g.sizes[i]) throw new Error(`${name} has ${v.length} values, its shape [${g.shapes[i]}] holds ${g.sizes[i]}`);
        out.set(v, offset);
        offset += v.length;
      });
      return out;
    });
  }

  /** Views of host group arrays, by name. */
  unpackHost(groups: readonly Float32Array[]): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    this.groups.forEach((g, i) => {
      let offset = 0;
      g.names.forEach((name, j) => {
        out.set(name, groups[i]!.subarray(offset, offset + g.sizes[j]!));
        offset += g.sizes[j]!;
      });
    });
    return out;
  }

  /** Each group's variable shape. */
  groupShape(i: number): number[] {
    const g = this.groups[i]!;
    return g.packed ? [g.total] : g.shapes[0]!;
  }

  dispose(): void {
    if (!this.constants) return;
    const { sizes, axis, flat, shapes } = this.constants;
    [...sizes, axis, flat, ...shapes.values()].forEach((t) => t.dispose());
    this.constants = null;
  }

  /** The shape and size operands of the kernels, made once rather than per batch. */
  private kernelConstants(): NonNullable<PackedLayout['constants']> {
    // Kept: they outlive the tf.tidy scope of the batch that first needs them.
    this.constants ??= {
      sizes: this.groups.map((g) => tf.keep(tf.tensor1d(g.sizes, 'int32'))),
      axis: tf.keep(tf.scalar(0, 'int32')),
      flat: tf.keep(tf.tensor1d([-1], 'int32')),
      shapes: new Map(this.groups.flatMap((g) => g.names.map((name, j) => [name, tf.keep(tf.tensor1d(g.shapes[j]!, 'int32'))] as const))),
    };
    return this.constants;
  }
}

function group(parts: readonly NamedShape[], packed: boolean): Group {
  const sizes = parts.map((p) => p.shape.reduce((a, b) => a * b, 1));
  return { names: parts.map((p) => p.name), shapes: parts.map((p) => [...p.shape]), sizes, total: sizes.reduce((a, b) => a + b, 0), packed };
}

function reshape(t: tf.Tensor, shape: tf.Tensor): tf.Tensor {
  return runKernel('Reshape', reshapeAttrs(), [t, shape]);
}

/** Named float32 tensors held in the variables of a PackedLayout, one per group. */
export class PackedVariable {
  private constructor(readonly layout: PackedLayout, readonly variables: readonly ResourceVariable[]) {}

  static fromHost(layout: PackedLayout, values: ReadonlyMap<string, Float32Array>): PackedVariable {
    return new PackedVariable(layout, layout.packHost(values).map((v, i) => ResourceVariable.fromValues(v, layout.groupShape(i))));
  }

  static zeros(layout: PackedLayout): PackedVariable {
    return new PackedVariable(layout, layout.groups.map((g, i) => ResourceVariable.fromValues(new Float32Array(g.total), layout.groupShape(i))));
  }

  /** Each group's values (reads sharing the variables' buffers). */
  read(): tf.Tensor[] {
    return this.variables.map((v) => v.read());
  }

  /** The values by name, as tensors of their own shapes. */
  readParts(): Map<string, tf.Tensor> {
    return this.layout.unpack(this.read());
  }

  /** The values by name, copied to the host. */
  readHost(): Map<string, Float32Array> {
    return this.layout.unpackHost(this.variables.map((v) => {
      const t = v.read();
      try {
        return t.dataSync() as Float32Array;
      } finally {
        t.dispose();
      }
    }));
  }

  /** New values, one tensor per group. */
  assign(groups: readonly tf.Tensor[]): void {
    this.variables.forEach((v, i) => v.assign(groups[i]!));
  }

  dispose(): void {
    this.variables.forEach((v) => v.dispose());
  }
}
