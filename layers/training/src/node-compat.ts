/**
 * tfjs-node 4.22 (its last release) calls `util.isNullOrUndefined` and `util.isArray` when it
 * runs kernels: Node 23 removed the first (DEP0051) and the second is deprecated (DEP0044).
 * This layer's index imports this module first, so it runs before any of our modules loads
 * tfjs-node; package.json's `sideEffects` names this file so esbuild keeps that import.
 * Guarded: defines a function where this Node lacks it or has only its runtime-deprecation
 * wrapper (Node 22: each wrapper prints a DeprecationWarning once per process, so every trainer
 * worker and test process repeated two warnings about tfjs-node's code, which nobody here can
 * change); never replaces any other function.
 */
import util from 'node:util';

const REMOVED_UTIL_FUNCTIONS: Readonly<Record<string, (value: unknown) => boolean>> = {
  isNullOrUndefined: (value) => value === null || value === undefined,
  isArray: (value) => Array.isArray(value),
};

/** Node's util.deprecate() returns its wrapper under this name. */
const DEPRECATION_WRAPPER_NAME = 'deprecated';

/** Defines each missing or deprecated function on `target` (node:util, the object tfjs-node requires); returns the names it defined. */
export function installNodeCompat(target: Record<string, unknown> = util as unknown as Record<string, unknown>): string[] {
  const missing = Object.keys(REMOVED_UTIL_FUNCTIONS).filter((name) => {
    const own = target[name];
    return typeof own !== 'function' || own.name === DEPRECATION_WRAPPER_NAME;
  });
  for (const name of missing) target[name] = REMOVED_UTIL_FUNCTIONS[name];
  return missing;
}

installNodeCompat();
