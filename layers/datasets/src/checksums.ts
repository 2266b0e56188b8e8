import { createHash } from 'node:crypto';

/** The official, decompressed content of one file: its size and SHA-256 (lowercase hex). */
export interface RawChecksum {
  rawBytes: number;
  rawSha256: string;
}

/**
 * SHA-256 of the decompressed IDX files of MNIST and Fashion-MNIST, as published for
 * the original releases (MNIST by LeCun, Cortes and Burges; Fashion-MNIST by Zalando
 * Research, git 55506a9). Keyed by the official file name without `.gz`.
 */
export const MNIST_RAW_CHECKSUMS: Readonly<Record<string, RawChecksum>> = {
  'train-images-idx3-ubyte': {
    rawBytes: 47040016,
    rawSha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  },
  'train-labels-idx1-ubyte': {
    rawBytes: 60008,
    rawSha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
  },
  't10k-images-idx3-ubyte': {
    rawBytes: 7840016,
    rawSha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
  },
  't10k-labels-idx1-ubyte': {
    rawBytes: 10008,
    rawSha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
  },
};

export const FASHION_MNIST_RAW_CHECKSUMS: Readonly<Record<string, RawChecksum>> = {
  'train-images-idx3-ubyte': {
    rawBytes: 47040016,
    rawSha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  },
  'train-labels-idx1-ubyte': {
    rawBytes: 60008,
    rawSha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  },
  't10k-images-idx3-ubyte': {
    rawBytes: 7840016,
    rawSha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  },
  't10k-labels-idx1-ubyte': {
    rawBytes: 10008,
    rawSha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
  },
};

/**
 * The official CIFAR-10 binary archive. Its MD5 is the one published on the CIFAR-10
 * page; per-file SHA-256 values of the batches inside are not published, so a batch
 * counts as verified only when it was extracted from an archive with this MD5.
 */
export const CIFAR10_BINARY_ARCHIVE_MD5 = 'c58f30108f718f92721af3b95e74349a';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
