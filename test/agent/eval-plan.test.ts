import { MAX_SEEDS_PER_TASK, parseSeedSpec, parseTaskList, planEpisodes, seedsForTask } from '../../layers/agent/src';

describe('eval plan', () => {
  it('--tasks all is every task; a list keeps its order without duplicates', () => {
    expect(parseTaskList('all')).toEqual({ ok: true, value: ['easy_mnist', 'medium_fashion', 'hard_cifar'] });
    expect(parseTaskList('hard_cifar, easy_mnist,hard_cifar')).toEqual({ ok: true, value: ['hard_cifar', 'easy_mnist'] });
  });

  it('an unknown task is refused, naming it and the allowed values', () => {
    const parsed = parseTaskList('easy_mnist,mnist');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.message).toContain('"mnist"');
    expect(parsed.message).toContain('all, or a comma-separated list of easy_mnist, medium_fashion, hard_cifar');
    expect(parseTaskList('').ok).toBe(false);
  });

  it('--seeds N is the task\'s own seed and the N-1 after it (seed #1 is the reference episode)', () => {
    const spec = parseSeedSpec('3');
    expect(spec).toEqual({ ok: true, value: { kind: 'count', count: 3 } });
    if (!spec.ok) return;
    expect(seedsForTask('easy_mnist', spec.value)).toEqual([42, 43, 44]);
    expect(seedsForTask('hard_cifar', spec.value)).toEqual([456, 457, 458]);
  });

  it('--seeds a,b,c is that list on every task, duplicates dropped', () => {
    const spec = parseSeedSpec('3, 17,42,3');
    expect(spec).toEqual({ ok: true, value: { kind: 'list', seeds: [3, 17, 42] } });
    if (!spec.ok) return;
    expect(planEpisodes(['easy_mnist', 'medium_fashion'], spec.value)).toEqual([
      { task_id: 'easy_mnist', seed: 3 },
      { task_id: 'easy_mnist', seed: 17 },
      { task_id: 'easy_mnist', seed: 42 },
      { task_id: 'medium_fashion', seed: 3 },
      { task_id: 'medium_fashion', seed: 17 },
      { task_id: 'medium_fashion', seed: 42 },
    ]);
  });

  it.each(['0', '-1', '2.5', 'abc', '', `${MAX_SEEDS_PER_TASK + 1}`, '1,x', '1,,2', '1,-3', '1,99999999999'])('refuses --seeds %j, saying what is allowed', (text) => {
    const parsed = parseSeedSpec(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.message).toMatch(/^--seeds must be a count from 1 to 1000 \(the task's own seed and the ones after it\) or a comma-separated list of seeds from 0 to 2147483647/);
  });
});
