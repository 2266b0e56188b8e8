import { convergenceSignal } from '../../layers/core/src';

const signal = (train: number[], val: number[], diverged = false) =>
  convergenceSignal({ diverged, train_loss_history: train, val_loss_history: val });

describe('convergenceSignal (first match wins)', () => {
  it('diverged beats everything', () => expect(signal([], [], true)).toBe('diverged'));
  it('not_started before any epoch', () => expect(signal([], [])).toBe('not_started'));
  it('warming_up with fewer than 3 epochs', () => expect(signal([1, 0.9], [1, 0.9])).toBe('warming_up'));
  it('overfitting: val loss rose over the window while train loss fell', () =>
    expect(signal([1, 0.8, 0.6, 0.4, 0.2], [0.5, 0.49, 0.5, 0.52, 0.6])).toBe('overfitting'));
  it('plateaued: val losses within 0.005', () =>
    expect(signal([1, 1, 1, 1, 1], [0.5, 0.502, 0.501, 0.503, 0.5049])).toBe('plateaued'));
  it('improving: last val loss below the first of the window', () => expect(signal([1, 0.9, 0.8], [1, 0.8, 0.7])).toBe('improving'));
  it('stalling otherwise', () => expect(signal([1, 1.1, 1.2], [0.7, 0.8, 0.7])).toBe('stalling'));
  it('rising val loss with rising train loss is not overfitting', () => expect(signal([1, 1.1, 1.2], [0.7, 0.8, 0.9])).toBe('stalling'));
  it('judges only the last 5 epochs', () =>
    expect(signal([9, 9, 9, 1, 1, 1, 1, 1], [9, 0.1, 0.1, 0.5, 0.5, 0.501, 0.502, 0.503])).toBe('plateaued'));
  it('a val loss back where it started is not overfitting, even with the train loss falling', () =>
    expect(signal([1, 0.8, 0.6], [0.5, 0.7, 0.5])).toBe('stalling'));
  it('a rising val loss with a train loss back where it started is not overfitting', () =>
    expect(signal([1, 0.5, 1], [0.7, 0.8, 0.9])).toBe('stalling'));
  it('a range of exactly 0.005 is not a plateau', () => expect(signal([1, 1, 1], [0.01, 0.008, 0.005])).toBe('improving'));
  it('exactly 3 epochs are past the warm-up', () => expect(signal([1, 1, 1], [1, 1, 1])).toBe('plateaued'));
  it('judges the train loss over the last 5 epochs too', () =>
    expect(signal([0.1, 0.1, 0.1, 1, 0.9, 0.5, 0.55, 0.6], [0.9, 0.9, 0.9, 0.5, 0.52, 0.55, 0.58, 0.6])).toBe('overfitting'));
});
