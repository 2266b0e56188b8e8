import * as tf from '@tensorflow/tfjs-node';
import { batchNormInfer, batchNormTrain, BatchNormStats } from '../../layers/training/src/ops/batch-norm';

function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(b)).dataSync()[0]!);
}

describe('fused batch norm (FusedBatchNormV3 / FusedBatchNormGradV3) against plain ops', () => {
  const x = tf.add(tf.mul(tf.randomNormal([8, 6, 6, 5], 0, 1, 'float32', 1), 2), 0.5);
  const dy = tf.randomNormal(x.shape, 0, 1, 'float32', 2);
  const stats: BatchNormStats = {
    gamma: tf.randomUniform([5], 0.5, 1.5, 'float32', 3),
    beta: tf.randomNormal([5], 0, 1, 'float32', 4),
    runningMean: tf.randomNormal([5], 0, 1, 'float32', 5),
    runningVar: tf.randomUniform([5], 0.5, 2, 'float32', 6),
  };

  it('normalises, updates running statistics and backpropagates like the plain formulas', () => {
    tf.tidy(() => {
      const fused = batchNormTrain(x, stats, 'fused');
      const plain = batchNormTrain(x, stats, 'plain');
      expect(relDiff(fused.y, plain.y)).toBeLessThan(1e-5);
      expect(relDiff(fused.runningMean, plain.runningMean)).toBeLessThan(1e-5);
      expect(relDiff(fused.runningVar, plain.runningVar)).toBeLessThan(1e-5);
      const gf = fused.backward(dy);
      const gp = plain.backward(dy);
      expect(relDiff(gf.dx, gp.dx)).toBeLessThan(1e-4);
      expect(relDiff(gf.dgamma, gp.dgamma)).toBeLessThan(1e-4);
      expect(relDiff(gf.dbeta, gp.dbeta)).toBeLessThan(1e-5);
    });
  });

  it("follows PyTorch's running-statistics convention: momentum 0.1, unbiased batch variance", () => {
    tf.tidy(() => {
      const n = 8 * 6 * 6;
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const expectedMean = tf.add(tf.mul(stats.runningMean, 0.9), tf.mul(mean, 0.1));
      const expectedVar = tf.add(tf.mul(stats.runningVar, 0.9), tf.mul(variance, (0.1 * n) / (n - 1)));
      const fused = batchNormTrain(x, stats, 'fused');
      expect(relDiff(fused.runningMean, expectedMean)).toBeLessThan(1e-5);
      expect(relDiff(fused.runningVar, expectedVar)).toBeLessThan(1e-5);
    });
  });

  it('matches tf.grads of the textbook formula', () => {
    tf.tidy(() => {
      const textbook = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const m = tf.moments(xx, [0, 1, 2]);
        const y = tf.add(tf.mul(tf.div(tf.sub(xx, m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), g), b);
        return tf.sum(tf.mul(y, dy));
      };
      const [dx, dgamma, dbeta] = tf.grads(textbook)([x, stats.gamma, stats.beta]);
      const g = batchNormTrain(x, stats, 'fused').backward(dy);
      expect(relDiff(g.dx, dx!)).toBeLessThan(1e-4);
      expect(relDiff(g.dgamma, dgamma!)).toBeLessThan(1e-4);
      expect(relDiff(g.dbeta, dbeta!)).toBeLessThan(1e-5);
    });
  });

  it('uses the running statistics in inference mode', () => {
    tf.tidy(() => {
      const expected = tf.add(tf.mul(tf.div(tf.sub(x, stats.runningMean), tf.sqrt(tf.add(stats.runningVar, 1e-5))), stats.gamma), stats.beta);
      expect(relDiff(batchNormInfer(x, stats, 'fused'), expected)).toBeLessThan(1e-5);
      expect(relDiff(batchNormInfer(x, stats, 'plain'), expected)).toBeLessThan(1e-5);
    });
  });
});
