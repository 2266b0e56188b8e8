import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { deprecate } from 'node:util';
import { installNodeCompat } from '../../layers/training/src/node-compat';

describe('the node:util shim tfjs-node 4.22 needs on Node 23+', () => {
  it('defines the removed functions where they are missing, with their old meaning', () => {
    const util: Record<string, unknown> = {};
    expect(installNodeCompat(util).sort()).toEqual(['isArray', 'isNullOrUndefined']);
    const isNullOrUndefined = util.isNullOrUndefined as (v: unknown) => boolean;
    expect([null, undefined, 0, '', false, {}].map(isNullOrUndefined)).toEqual([true, true, false, false, false, false]);
    expect((util.isArray as (v: unknown) => boolean)([1])).toBe(true);
  });

  it("replaces Node's deprecation wrappers (Node 22: a DeprecationWarning in every process) with the same meaning", () => {
    const util: Record<string, unknown> = { isNullOrUndefined: deprecate(() => false, 'gone', 'DEP0051'), isArray: Array.isArray };
    expect(installNodeCompat(util)).toEqual(['isNullOrUndefined']);
    expect((util.isNullOrUndefined as (v: unknown) => boolean)(null)).toBe(true);
    expect(util.isArray).toBe(Array.isArray);
  });

  it('never replaces another function Node still has', () => {
    const own = () => true;
    const util: Record<string, unknown> = { isNullOrUndefined: own, isArray: own };
    expect(installNodeCompat(util)).toEqual([]);
    expect(util.isNullOrUndefined).toBe(own);
    expect(util.isArray).toBe(own);
  });

  it('is in place before tfjs-node loads: a process without them loads our tfjs entry and trains a batch', () => {
    const child = spawnSync(process.execPath, [require.resolve('tsx/cli'), join(__dirname, 'fixtures', 'train-without-removed-util.ts')], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    if (child.status !== 0) throw new Error(`child failed (${child.status}): ${child.stderr}`);
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!);
    expect(result.before).toEqual({ isNullOrUndefined: false, isArray: false });
    expect(result.atTfjsLoad).toEqual({ isNullOrUndefined: true, isArray: true });
    expect(result.backend).toBe('tensorflow');
    expect(Number.isFinite(result.loss)).toBe(true);
  });
});
