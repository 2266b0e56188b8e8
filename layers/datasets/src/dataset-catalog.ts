import { CIFAR10_BINARY_ARCHIVE_MD5, FASHION_MNIST_RAW_CHECKSUMS, MNIST_RAW_CHECKSUMS, RawChecksum } from './checksums';
import { DATASET_NAMES, type DatasetName } from '../../core/src';

export { DATASET_NAMES, isDatasetName } from '../../core/src';

/** One official file, named as published (without `.gz`), with its decompressed checksum. */
export interface OfficialFile extends RawChecksum {
  name: string;
}

interface DatasetSpecBase {
  name: DatasetName;
  /** Images in the official training split. */
  trainCount: number;
  channels: number;
  height: number;
  width: number;
}

/** MNIST-like: four IDX files (gzip-compressed at the source), each checked on its own. */
export interface IdxDatasetSpec extends DatasetSpecBase {
  format: 'idx';
  testCount: number;
  files: { trainImages: OfficialFile; trainLabels: OfficialFile; testImages: OfficialFile; testLabels: OfficialFile };
  /** Base URLs tried in order; each file is fetched as `<base><name>.gz`. */
  mirrors: readonly string[];
}

/** CIFAR-10 binary version: batch files of fixed-size records, published inside one tar.gz. */
export interface CifarDatasetSpec extends DatasetSpecBase {
  format: 'cifar-binary';
  recordsPerBatch: number;
  trainBatches: readonly string[];
  testBatch: string;
  /** Other files taken from the archive (not used for training). */
  extraFiles: readonly string[];
  archive: {
    url: string;
    md5: string;
    /** The folder the archive stores its files in. */
    memberDir: string;
  };
}

export type DatasetSpec = IdxDatasetSpec | CifarDatasetSpec;

/** Everything the datasets layer needs to know about each dataset; tests inject tiny ones. */
export type DatasetCatalog = Readonly<Record<DatasetName, DatasetSpec>>;

function officialIdxFiles(table: Readonly<Record<string, RawChecksum>>): IdxDatasetSpec['files'] {
  const file = (name: string): OfficialFile => ({ name, ...table[name] });
  return {
    trainImages: file('train-images-idx3-ubyte'),
    trainLabels: file('train-labels-idx1-ubyte'),
    testImages: file('t10k-images-idx3-ubyte'),
    testLabels: file('t10k-labels-idx1-ubyte'),
  };
}

export const OFFICIAL_CATALOG: DatasetCatalog = {
  mnist: {
    name: 'mnist',
    format: 'idx',
    trainCount: 60000,
    testCount: 10000,
    channels: 1,
    height: 28,
    width: 28,
    files: officialIdxFiles(MNIST_RAW_CHECKSUMS),
    // torchvision's mirror of the original files, then TensorFlow's.
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/'],
  },
  fashion_mnist: {
    name: 'fashion_mnist',
    format: 'idx',
    trainCount: 60000,
    testCount: 10000,
    channels: 1,
    height: 28,
    width: 28,
    files: officialIdxFiles(FASHION_MNIST_RAW_CHECKSUMS),
    // Keras's HTTPS copy first; Zalando's own bucket (what torchvision uses) only serves
    // plain HTTP. Either way the content is checked against the pinned SHA-256.
    mirrors: [
      'https://storage.googleapis.com/tensorflow/tf-keras-datasets/',
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    ],
  },
  cifar10: {
    name: 'cifar10',
    format: 'cifar-binary',
    trainCount: 50000,
    channels: 3,
    height: 32,
    width: 32,
    recordsPerBatch: 10000,
    trainBatches: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
    testBatch: 'test_batch.bin',
    extraFiles: ['batches.meta.txt'],
    archive: {
      url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
      md5: CIFAR10_BINARY_ARCHIVE_MD5,
      memberDir: 'cifar-10-batches-bin',
    },
  },
};

export function getDatasetSpec(dataset: DatasetName, catalog: DatasetCatalog = OFFICIAL_CATALOG): DatasetSpec {
  const spec = catalog[dataset];
  if (!spec) throw new Error(`unknown dataset ${JSON.stringify(dataset)}; known datasets: ${DATASET_NAMES.join(', ')}`);
  return spec;
}

/** Bytes of one image (C × H × W). */
export function imageBytes(spec: DatasetSpec): number {
  return spec.channels * spec.height * spec.width;
}

/** The sentence every "bad or missing file" error ends with. */
export function howToGetGoodCopy(dataset: DatasetName): string {
  return (
    `Get a good copy with \`ml-trainer datasets fetch --dataset ${dataset}\`, ` +
    'or point --data-dir (or ML_TRAINER_DATA_DIR) at a directory holding the official files.'
  );
}
