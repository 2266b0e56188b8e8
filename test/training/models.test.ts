import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-node';
import { TorchGenerator } from '../../layers/datasets/src/torch-generator';
import { ModelKind } from '../../layers/training/src/model/architectures';
import { Network } from '../../layers/training/src/model/network';
import { toTorchLayout } from './torch-layout';

// SHA-256 (first 16 hex digits) of each parameter's float32 bytes in PyTorch's layout, right
// after torch.manual_seed(seed) and the model's construction as pt_reference.py does it
// (torch 2.13.0, test/training/fixtures/make-torch-constants.py).
const INIT_SHA256_PREFIX: Record<ModelKind, Record<string, string>> = {
  simple_mlp: {"layers.0.weight": "94950594639217f2", "layers.0.bias": "684e76d558d19e53", "layers.3.weight": "16ae04b93817eb30", "layers.3.bias": "a0894eb523e3e4cb", "layers.6.weight": "3754741005d58372", "layers.6.bias": "bdca3b44bbcbb5c9"},
  small_cnn: {"features.0.weight": "0f795dcf1bf5d02c", "features.0.bias": "2c5d85e8562413b5", "features.3.weight": "a0b6c22faba836bd", "features.3.bias": "b8fffffe516f456e", "classifier.1.weight": "06da133bbc11be42", "classifier.1.bias": "e8a0fe63ffe8ddfb", "classifier.4.weight": "220b8bd2755224c4", "classifier.4.bias": "71eb6af9e22cb26f"},
  deeper_cnn: {"features.0.weight": "7157ae84627cbbd8", "features.0.bias": "63df2db012e33d43", "features.1.weight": "b638277a8690e175", "features.1.bias": "38723a2e5e8a17aa", "features.1.running_mean": "38723a2e5e8a17aa", "features.1.running_var": "b638277a8690e175", "features.4.weight": "80a1c083f9f3d169", "features.4.bias": "4cf6d89b32a2cd37", "features.5.weight": "2f20cd03c9cd392a", "features.5.bias": "5341e6b2646979a7", "features.5.running_mean": "5341e6b2646979a7", "features.5.running_var": "2f20cd03c9cd392a", "features.8.weight": "cca5375e2efc7876", "features.8.bias": "c1c770389230abdf", "features.9.weight": "02722f124d0f1736", "features.9.bias": "076a27c79e5ace2a", "features.9.running_mean": "076a27c79e5ace2a", "features.9.running_var": "02722f124d0f1736", "classifier.1.weight": "5f3f37194a804c6b", "classifier.1.bias": "76716bae7a59425e", "classifier.4.weight": "181882cae1053597", "classifier.4.bias": "db5d0e9c14da49d6"},
};

const SEEDS: [ModelKind, number][] = [['simple_mlp', 42], ['small_cnn', 123], ['deeper_cnn', 456]];

function sha(data: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex').slice(0, 16);
}

describe('model architectures', () => {
  it.each([
    ['simple_mlp', 109_386],
    ['small_cnn', 421_642],
    ['deeper_cnn', 620_810],
  ] as const)('%s has PyTorch\'s parameter count (%i)', (kind, count) => {
    expect(new Network(kind, 0).paramCount).toBe(count);
  });

  it.each(SEEDS)('%s starts from PyTorch\'s initial weights bit for bit (seed %i)', (kind, seed) => {
    const network = new Network(kind, 0);
    const initial = network.initialParams(TorchGenerator.seeded(seed));
    const got: Record<string, string> = {};
    for (const p of network.params) got[p.name] = sha(toTorchLayout(kind, p.name, p.shape, initial.get(p.name)!));
    tf.tidy(() => {
      for (const [name, t] of network.initialBuffers()) got[name] = sha(t.dataSync() as Float32Array);
    });
    expect(got).toEqual(INIT_SHA256_PREFIX[kind]);
  });

  it('names parameters and buffers like PyTorch\'s state_dict', () => {
    const network = new Network('deeper_cnn', 0.5);
    expect(network.params.map((p) => p.name)).toEqual([
      'features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias',
      'features.4.weight', 'features.4.bias', 'features.5.weight', 'features.5.bias',
      'features.8.weight', 'features.8.bias', 'features.9.weight', 'features.9.bias',
      'classifier.1.weight', 'classifier.1.bias', 'classifier.4.weight', 'classifier.4.bias',
    ]);
    expect(network.buffers.map((b) => b.name)).toEqual([
      'features.1.running_mean', 'features.1.running_var', 'features.5.running_mean',
      'features.5.running_var', 'features.9.running_mean', 'features.9.running_var',
    ]);
  });
});
