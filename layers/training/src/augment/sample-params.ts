import type { DatasetName, TorchGenerator } from '../../../datasets/src';
import { Affine, compose, horizontalFlip, rotationAbout, translation } from './affine';

/** Brightness and contrast factors of one CIFAR sample, and which comes first. */
export interface ColorJitter {
  brightness: number;
  contrast: number;
  brightnessFirst: boolean;
}

export interface SampleAugmentation {
  /** Output pixel → input pixel. */
  geometry: Affine;
  color: ColorJitter | null;
}

/**
 * Draws one sample's random augmentation at strength s, a fixed number of draws per
 * sample for a dataset and strength (so the stream position depends only on the batch sizes):
 * - mnist: rotation ±floor(15s)°, then translation by round(±0.1s·size) pixels;
 * - fashion_mnist: horizontal flip with p = 0.5s, then rotation ±floor(10s)°;
 * - cifar10: random 32×32 crop of the image zero-padded by max(1, floor(4s)), horizontal
 *   flip with p = 0.5s, and for s > 0.5 brightness and contrast factors in 1 ± 0.2s,
 *   applied in random order (torchvision's ColorJitter).
 */
export function drawSampleAugmentation(
  g: TorchGenerator, dataset: DatasetName, s: number, width: number, height: number,
): SampleAugmentation {
  const u = () => g.nextFloat();
  const symmetric = (max: number) => (2 * u() - 1) * max;
  switch (dataset) {
    case 'mnist': {
      const rotate = rotationAbout(symmetric(Math.floor(15 * s)), width, height);
      const dx = roundHalfEven(symmetric(0.1 * s * width));
      const dy = roundHalfEven(symmetric(0.1 * s * height));
      return { geometry: compose(rotate, translation(-dx, -dy)), color: null };
    }
    case 'fashion_mnist': {
      const flip = u() < 0.5 * s;
      const rotate = rotationAbout(symmetric(Math.floor(10 * s)), width, height);
      return { geometry: flip ? compose(horizontalFlip(width), rotate) : rotate, color: null };
    }
    case 'cifar10': {
      const pad = Math.max(1, Math.floor(4 * s));
      const dx = Math.floor(u() * (2 * pad + 1)) - pad;
      const dy = Math.floor(u() * (2 * pad + 1)) - pad;
      const flip = u() < 0.5 * s;
      const crop = translation(dx, dy);
      const geometry = flip ? compose(crop, horizontalFlip(width)) : crop;
      return { geometry, color: s > 0.5 ? drawColorJitter(u, 0.2 * s) : null };
    }
  }
}

function drawColorJitter(u: () => number, amount: number): ColorJitter {
  const lo = Math.max(0, 1 - amount);
  const hi = 1 + amount;
  return { brightness: lo + u() * (hi - lo), contrast: lo + u() * (hi - lo), brightnessFirst: u() < 0.5 };
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

