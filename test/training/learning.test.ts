import { TOY_TASKS } from './toy-data';
import { config, specOf, toyFactory } from './trainer-helpers';

describe('each model learns a separable toy problem', () => {
  it.each(TOY_TASKS.map((t) => [t.model, t] as const))('%s goes well above chance in a few epochs', async (_model, task) => {
    const { factory } = toyFactory(256, 128);
    const trainer = await factory.create(specOf(task));
    const cfg = config({ optimizer: 'adam', learning_rate: 0.002, batch_size: 32, dropout: 0.1 });
    await trainer.buildModel(cfg);
    const history = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      const train = await trainer.trainEpoch(cfg.learning_rate);
      const val = await trainer.evaluate();
      history.push({ train, val });
    }
    trainer.dispose();
    const last = history[history.length - 1]!;
    expect(last.val.accuracy).toBeGreaterThan(0.9);
    expect(last.train.loss).toBeLessThan(history[0]!.train.loss);
    for (const h of history) {
      expect(h.train.seconds).toBeGreaterThan(0);
      expect(h.val.seconds).toBeGreaterThan(0);
      expect(Number.isInteger(Math.round(h.val.accuracy * 128))).toBe(true);
    }
  });
});
