import fc from 'fast-check';

/**
 * What one hostile case came to, on any interface:
 * - accepted: a 2xx (or a reply frame / JSON-RPC result), which may change state;
 * - rejected: a 4xx (or an error frame / JSON-RPC error), which must change nothing unless
 *   the answer itself says a step was committed (a rejected tool call is a step by the
 *   environment's rules);
 * - server_error: a 5xx (or an internal-error frame / JSON-RPC -32603);
 * - crashed: the process died or stopped answering its health request.
 */
export type Verdict = 'accepted' | 'rejected' | 'server_error' | 'crashed';

export interface CaseOutcome {
  verdict: Verdict;
  /** The answer commits a step (REST 422/409 with error.details.step, a tool result): the state may change by it. */
  committedStep?: boolean;
  /** Why the answer has the wrong shape for its interface, if it does. */
  badShape?: string;
  /** A short description for failure messages. */
  summary: string;
}

export interface Counts {
  cases: number;
  accepted: number;
  rejected4xx: number;
  server5xx: number;
  crashes: number;
  stateChangedByRejected: number;
  badShape: number;
}

const counts = new Map<string, Counts>();

/**
 * HOSTILE_COLLECT=1: problems are listed when the suite ends instead of failing the first
 * case (to see every distinct failure of a run at once; counterexamples are then not shrunk).
 */
export const COLLECT = process.env.HOSTILE_COLLECT === '1';
const collected: string[] = [];

function countsOf(iface: string): Counts {
  let c = counts.get(iface);
  if (!c) {
    c = { cases: 0, accepted: 0, rejected4xx: 0, server5xx: 0, crashes: 0, stateChangedByRejected: 0, badShape: 0 };
    counts.set(iface, c);
  }
  return c;
}

/** Records a case; returns the problems with it (empty: the case held). */
export function record(iface: string, outcome: CaseOutcome, stateChanged: boolean): string[] {
  const c = countsOf(iface);
  c.cases++;
  const problems: string[] = [];
  if (outcome.verdict === 'accepted') c.accepted++;
  if (outcome.verdict === 'rejected') c.rejected4xx++;
  if (outcome.verdict === 'server_error') {
    c.server5xx++;
    problems.push(`server error: ${outcome.summary}`);
  }
  if (outcome.verdict === 'crashed') {
    c.crashes++;
    problems.push(`process crashed or stopped answering: ${outcome.summary}`);
  }
  if (outcome.verdict === 'rejected' && stateChanged && !outcome.committedStep) {
    c.stateChangedByRejected++;
    problems.push(`a rejected call changed stored state: ${outcome.summary}`);
  }
  if (outcome.badShape) {
    c.badShape++;
    problems.push(`answer not as the interface requires (${outcome.badShape}): ${outcome.summary}`);
  }
  if (COLLECT) collected.push(...problems.map((p) => `[${iface}] ${p}`));
  return COLLECT ? [] : problems;
}

/** One line per interface, printed when a suite ends. */
export function countsReport(): string {
  const lines = [...counts.entries()].map(
    ([iface, c]) =>
      `hostile ${iface}: ${c.cases} cases, ${c.accepted} accepted, ${c.rejected4xx} 4xx, ${c.server5xx} 5xx, ${c.crashes} process crashes, ${c.stateChangedByRejected} state changed by a rejected call, ${c.badShape} bad error shapes`,
  );
  if (COLLECT) lines.push(...collected.map((p) => p.slice(0, 700)));
  return lines.join('\n');
}

/**
 * The suite's fast-check settings: a fixed seed (HOSTILE_SEED overrides it; a failure names
 * it), a bounded number of runs (HOSTILE_RUNS_SCALE scales them) and a time limit per
 * property after which it stops (a case it cuts off still runs to its end before anything
 * else starts), so the whole suite stays within its budget.
 */
export const SEED = Number(process.env.HOSTILE_SEED ?? 20260212);

export function runs(n: number): number {
  const scale = Number(process.env.HOSTILE_RUNS_SCALE ?? 1);
  return Math.max(1, Math.round(n * scale));
}

export interface Budget {
  numRuns: number;
  timeLimitMs: number;
}

export function settings(numRuns: number, timeLimitMs = 5_000): Budget {
  return { numRuns: runs(numRuns), timeLimitMs };
}

/**
 * fc.assert with a readable failure (`examples`: counterexamples found before, run first
 * whatever the seed): the seed and path to replay it, the shrunk
 * counterexample and the problem, each clipped (a case may hold 70 KB of text).
 */
const inFlight = new Set<Promise<unknown>>();

/** Registers a running case, so that a property cut off by its time limit waits for it to end. */
export function track<T>(running: Promise<T>): Promise<T> {
  inFlight.add(running);
  return running;
}

export async function holds<T extends unknown[]>(property: fc.IAsyncPropertyWithHooks<T>, budget: Budget, examples: T[] = []): Promise<void> {
  const details = await fc.check(property, { seed: SEED, numRuns: budget.numRuns, interruptAfterTimeLimit: budget.timeLimitMs, markInterruptAsFailure: false, examples });
  // The time limit abandons the running case's promise; let it finish before anything else runs.
  await Promise.allSettled(inFlight);
  inFlight.clear();
  if (!details.failed) return;
  const clipText = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`);
  const example = details.counterexample ? details.counterexample.map((v) => clipText(typeof v === 'string' ? JSON.stringify(v) : fc.stringify(v), 400)).join(', ') : '(none)';
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `property failed after ${details.numRuns} runs, shrunk ${details.numShrinks} times (seed ${details.seed}, path "${details.counterexamplePath}": replay with HOSTILE_SEED)\n` +
      `counterexample: ${example}\n${clipText(error, 1500)}`,
  );
}
