import * as tf from '@tensorflow/tfjs-node';
import { TorchGenerator } from '../../layers/datasets/src/torch-generator';
import { compose, horizontalFlip, rotationAbout, transformRow } from '../../layers/training/src/augment/affine';
import { augmentBatch } from '../../layers/training/src/augment/augmenter';
import { colorJitter } from '../../layers/training/src/augment/color-jitter';
import { drawSampleAugmentation, roundHalfEven } from '../../layers/training/src/augment/sample-params';
import { blackLevel, NORMALISATION } from '../../layers/training/src/data/normalization';
import { splitTensors } from '../../layers/training/src/data/split-tensors';
import { toyTaskData } from './toy-data';

function apply(a: ReturnType<typeof rotationAbout>, x: number, y: number): [number, number] {
  const [a0, a1, a2, b0, b1, b2] = transformRow(a);
  return [a0! * x + a1! * y + a2!, b0! * x + b1! * y + b2!];
}

describe('augmentation geometry', () => {
  it('rotates about the image centre and flips columns', () => {
    const r = rotationAbout(90, 28, 28);
    const [cx, cy] = apply(r, 13.5, 13.5);
    expect(cx).toBeCloseTo(13.5, 12);
    expect(cy).toBeCloseTo(13.5, 12);
    const [x, y] = apply(r, 27, 13.5);
    expect([Math.abs(x - 13.5) < 1e-9, Math.abs(Math.abs(y - 13.5) - 13.5) < 1e-9]).toEqual([true, true]);
    expect(apply(horizontalFlip(32), 0, 5)).toEqual([31, 5]);
    expect(apply(compose(horizontalFlip(32), horizontalFlip(32)), 7, 3)).toEqual([7, 3]);
  });

  it("rounds translations like Python's round()", () => {
    expect([2.5, 3.5, -2.5, -1.5, 1.4, -0.6].map(roundHalfEven)).toEqual([2, 4, -2, -2, 1, -1]);
  });

  it('draws parameters within the documented ranges', () => {
    const g = TorchGenerator.seeded(5);
    const s = 0.8;
    let flips = 0;
    const bad: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const cifar = drawSampleAugmentation(g, 'cifar10', s, 32, 32);
      const [a0, , dx, , , dy] = transformRow(cifar.geometry);
      if (a0 === -1) flips++;
      const shift = a0 === -1 ? dx! - 31 : dx!;
      const pad = Math.floor(4 * s);
      const { brightness, contrast } = cifar.color!;
      const ok = Math.abs(shift) <= pad && Math.abs(dy!) <= pad && Number.isInteger(shift) && Number.isInteger(dy)
        && [brightness, contrast].every((f) => f >= 1 - 0.2 * s && f <= 1 + 0.2 * s);
      if (!ok) bad.push(JSON.stringify(cifar));
      const mnist = transformRow(drawSampleAugmentation(g, 'mnist', s, 28, 28).geometry);
      const degrees = (Math.atan2(mnist[3]!, mnist[0]!) * 180) / Math.PI;
      if (Math.abs(degrees) > Math.floor(15 * s) + 1e-9) bad.push(`mnist rotation ${degrees}`);
    }
    expect(bad).toEqual([]);
    expect(flips / 2000).toBeGreaterThan(0.5 * s - 0.05);
    expect(flips / 2000).toBeLessThan(0.5 * s + 0.05);
    expect(drawSampleAugmentation(g, 'cifar10', 0.5, 32, 32).color).toBeNull();
  });
});

describe('augmentBatch', () => {
  const mnist = splitTensors(toyTaskData('mnist', 8, 0, 3), 'train');
  const cifar = splitTensors(toyTaskData('cifar10', 8, 0, 3), 'train');

  it('is the identity for MNIST at strength 0', () => {
    const g = TorchGenerator.seeded(1);
    expect(augmentBatch(mnist.images, 'mnist', 0, g)).toBe(mnist.images);
  });

  it('depends only on the generator state', () => {
    tf.tidy(() => {
      const a = augmentBatch(mnist.images, 'mnist', 1, TorchGenerator.seeded(9));
      const b = augmentBatch(mnist.images, 'mnist', 1, TorchGenerator.seeded(9));
      const c = augmentBatch(mnist.images, 'mnist', 1, TorchGenerator.seeded(10));
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    });
  });

  it('fills with black (the normalised value of byte 0) where a rotation leaves the image', () => {
    tf.tidy(() => {
      const white = tf.fill([4, 28, 28, 1], 2.8215);
      const out = augmentBatch(white, 'fashion_mnist', 1, TorchGenerator.seeded(3)).dataSync();
      const fill = blackLevel('fashion_mnist')[0]!;
      const values = new Set(Array.from(out));
      expect([...values].sort()).toEqual([fill, Math.fround(2.8215)].sort());
    });
  });

  it('crops (zero padding) and flips CIFAR images pixel for pixel', () => {
    const seed = 21;
    const expected = TorchGenerator.seeded(seed);
    const params = Array.from({ length: 8 }, () => drawSampleAugmentation(expected, 'cifar10', 0.5, 32, 32));
    tf.tidy(() => {
      const out = augmentBatch(cifar.images, 'cifar10', 0.5, TorchGenerator.seeded(seed));
      const src = cifar.images.arraySync() as number[][][][];
      const got = out.arraySync() as number[][][][];
      const fill = blackLevel('cifar10');
      let mismatches = 0;
      params.forEach((p, n) => {
        const [a0, , tx, , , ty] = transformRow(p.geometry);
        for (let y = 0; y < 32; y++) {
          for (let x = 0; x < 32; x++) {
            const sx = a0! * x + tx!;
            const sy = y + ty!;
            const inside = sx >= 0 && sx < 32 && sy >= 0 && sy < 32;
            for (let c = 0; c < 3; c++) {
              const want = inside ? src[n]![sy]![sx]![c]! : fill[c]!;
              if (Math.abs(got[n]![y]![x]![c]! - want) > 1e-5) mismatches++;
            }
          }
        }
      });
      expect(mismatches).toBe(0);
      expect(params.some((p) => transformRow(p.geometry)[0] === -1)).toBe(true);
    });
  });

  it('applies brightness and contrast in raw pixel space with clamping', () => {
    tf.tidy(() => {
      const norm = NORMALISATION.cifar10;
      const raw = tf.tensor4d([0.2, 0.5, 0.9, 0.6, 0.1, 0.3], [1, 1, 2, 3]);
      const images = tf.div(tf.sub(raw, norm.mean as number[]), norm.std as number[]);
      const toRaw = (t: tf.Tensor) => Array.from(tf.add(tf.mul(t, norm.std as number[]), norm.mean as number[]).dataSync());
      const bright = colorJitter(images, [{ brightness: 1.5, contrast: 1, brightnessFirst: true }], norm);
      toRaw(bright).forEach((v, i) => expect(v).toBeCloseTo(Math.min(1, [0.2, 0.5, 0.9, 0.6, 0.1, 0.3][i]! * 1.5), 5));
      const grey = (0.299 * (0.2 + 0.6) + 0.587 * (0.5 + 0.1) + 0.114 * (0.9 + 0.3)) / 2;
      const flat = colorJitter(images, [{ brightness: 1, contrast: 0, brightnessFirst: false }], norm);
      toRaw(flat).forEach((v) => expect(v).toBeCloseTo(grey, 5));
    });
  });
});
