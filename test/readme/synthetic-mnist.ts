import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import { OFFICIAL_CATALOG, type IdxDatasetSpec } from '../../layers/datasets/src';
import { idxImages, idxLabels, labelOf } from '../datasets/helpers/tiny-datasets';

const MNIST = OFFICIAL_CATALOG.mnist as IdxDatasetSpec;
const IMAGES_HEADER_BYTES = 16;
const BAR_ROWS = 2;

/**
 * MNIST's training split as the README tells an offline user to lay it out
 * (`<dir>/mnist/train-images-idx3-ubyte.gz`, …), with synthetic pixels: the tiny fixtures'
 * patterned images at the official count, each with a bright bar at a row its label picks,
 * so an MLP learns them and an episode looks like one. Not the official bytes, so loading
 * them needs --allow-unverified-data (or ML_TRAINER_ALLOW_UNVERIFIED_DATA=1).
 */
export function writeSyntheticMnist(dataDir: string): void {
  const folder = join(dataDir, MNIST.name);
  mkdirSync(folder, { recursive: true });
  const images = idxImages(MNIST.trainCount, 0, MNIST.height, MNIST.width);
  for (let i = 0; i < MNIST.trainCount; i++) stampBar(images, i, labelOf(i));
  writeGzip(join(folder, MNIST.files.trainImages.name), images);
  writeGzip(join(folder, MNIST.files.trainLabels.name), idxLabels(MNIST.trainCount));
}

function stampBar(images: Buffer, index: number, label: number): void {
  const start = IMAGES_HEADER_BYTES + index * MNIST.height * MNIST.width + (4 + label * BAR_ROWS) * MNIST.width;
  images.fill(255, start, start + BAR_ROWS * MNIST.width);
}

function writeGzip(pathWithoutGz: string, bytes: Buffer): void {
  writeFileSync(`${pathWithoutGz}.gz`, gzipSync(bytes, { level: constants.Z_BEST_SPEED }));
}
