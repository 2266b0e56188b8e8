import * as fs from 'node:fs';
import * as path from 'node:path';
import { runDatasetsUpload } from '../../cli/commands/datasets-upload';
import { REPO_ROOT } from '../../infra/paths';
import { resolveDataDir } from '../../layers/datasets/src';
import { captureIO } from '../datasets/helpers/capture-io';
import { LOCAL_REGION } from './template-model';

/**
 * The deployed training function verifies datasets against the official checksums (its
 * catalog is bundled; nothing can inject the tiny test files into it), so the tested-as-
 * deployed suite trains on the official MNIST files: easy_mnist's 4000-image subset, an MLP,
 * one epoch, a few seconds. They are looked for where the project keeps datasets
 * (ML_TRAINER_DATA_DIR, the user cache) and in the machine's shared copy beside the
 * repository (`../shared/datasets`, as `.ci/run` finds its tools).
 */
export function officialMnistDir(): string {
  const candidates = [resolveDataDir(), path.resolve(REPO_ROOT, '..', 'shared', 'datasets')];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'mnist', 'train-images-idx3-ubyte.gz')));
  if (!found) {
    throw new Error(
      `The tested-as-deployed suite needs the official MNIST files; none in ${candidates.join(' or ')}. ` +
        'Run `ml-trainer datasets fetch --dataset mnist` (or point ML_TRAINER_DATA_DIR at a directory holding mnist/).',
    );
  }
  return found;
}

/** Uploads MNIST with `ml-trainer datasets upload` (its bucket layout, verified first) to the local S3. */
export async function uploadMnist(options: { bucket: string; prefix: string | undefined; endpoint: string }): Promise<void> {
  const args = ['--bucket', options.bucket, '--endpoint', options.endpoint, '--region', LOCAL_REGION, '--dataset', 'mnist', '--data-dir', officialMnistDir(), '--json'];
  if (options.prefix) args.push('--prefix', options.prefix);
  const io = captureIO({ AWS_REGION: LOCAL_REGION });
  const code = await runDatasetsUpload(args, io, {});
  if (code !== 0) throw new Error(`ml-trainer datasets upload failed (${code}): ${io.err()}`);
}
