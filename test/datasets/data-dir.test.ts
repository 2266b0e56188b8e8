import { homedir } from 'node:os';
import { join } from 'node:path';
import { datasetFolderCandidates, defaultSubsetCacheDir, resolveDataDir } from '../../layers/datasets/src/data-dir';

describe('data directory resolution', () => {
  it('prefers the explicit directory, then ML_TRAINER_DATA_DIR, then the per-user cache', () => {
    const env = { ML_TRAINER_DATA_DIR: '/env/data', XDG_CACHE_HOME: '/xdg' };
    expect(resolveDataDir('/explicit', env)).toBe('/explicit');
    expect(resolveDataDir(undefined, env)).toBe('/env/data');
    expect(resolveDataDir(undefined, { XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/ml-trainer/datasets');
    expect(resolveDataDir(undefined, {})).toBe(join(homedir(), '.cache', 'ml-trainer', 'datasets'));
    expect(resolveDataDir('  ', { ML_TRAINER_DATA_DIR: '' })).toBe(join(homedir(), '.cache', 'ml-trainer', 'datasets'));
  });

  it('caches subsets beside the datasets in the user cache', () => {
    expect(defaultSubsetCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/ml-trainer/subsets');
  });

  it('looks for CIFAR-10 in cifar10/, then the unpacked archive folder, then the JPEG stand-in', () => {
    expect(datasetFolderCandidates('/d', 'mnist')).toEqual(['/d/mnist']);
    expect(datasetFolderCandidates('/d', 'cifar10')).toEqual(['/d/cifar10', '/d/cifar10/cifar-10-batches-bin', '/d/cifar10_jpeg']);
  });
});
