import fc from 'fast-check';
import { record, track, type CaseOutcome } from './tally';
import { storedState, type RawAnswer, type ServerProcess } from './server-process';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';

/** Shortens what a failure message quotes (a case may carry 70 KB). */
export function clip(text: string, max = 240): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

/** The start of what a dying process printed (its error and the top of the stack). */
function firstLines(text: string): string {
  const lines = text.trim().split('\n');
  const first = Math.max(0, lines.findIndex((line) => /Error|error/.test(line)));
  return lines.slice(first, first + 4).join(' | ');
}

/** The stored state after the last case, while no call since may have changed it (reading it costs ~50 ms). */
let knownState: string | null = null;

/** Call after changing state outside serverCase (a setup step). */
export function forgetStoredState(): void {
  knownState = null;
}

/** The last case run, named when the process turns out to have died after answering it. */
let lastSummary = '(none yet)';

/**
 * A process that died after the last case's health request (e.g. while logging an error it
 * had already answered): counted as that case's crash, restarted, reported.
 */
export async function reviveIfDead(iface: string, env: { server: ServerProcess }): Promise<void> {
  if (!env.server.dead) return;
  const outcome: CaseOutcome = { verdict: 'crashed', summary: `the process died after answering: ${lastSummary} | server stderr: ${clip(firstLines(env.server.stderrTail), 600)}` };
  await env.server.restart();
  knownState = null;
  const problems = record(iface, outcome, false);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/**
 * Runs one case against the server process: the stored state before, the call, a health
 * request (a dead or wedged process is restarted and the case counted as a crash), the
 * stored state after. Throws (failing the property) with every problem the case shows.
 */
export function serverCase(iface: string, env: { runtime: LocalRuntime; server: ServerProcess }, call: () => Promise<CaseOutcome | null>): Promise<void> {
  return track(runServerCase(iface, env, call));
}

async function runServerCase(
  iface: string,
  env: { runtime: LocalRuntime; server: ServerProcess },
  call: () => Promise<CaseOutcome | null>,
): Promise<void> {
  await reviveIfDead(iface, env);
  const before = knownState ?? (await storedState(env.runtime));
  env.server.stderrTail = '';
  let outcome = await call();
  if (outcome === null) {
    knownState = null;
    fc.pre(false); // the client could not even send it (an invalid header character): not a case
    return;
  }
  if (!(await env.server.alive())) {
    outcome = { verdict: 'crashed', summary: `${outcome.summary} | server stderr: ${clip(firstLines(env.server.stderrTail), 600)}` };
    await env.server.restart();
  }
  // An accepted call may change state; only a rejected one is held to leaving it as it was.
  knownState = outcome.verdict === 'accepted' ? null : await storedState(env.runtime);
  lastSummary = outcome.summary;
  const problems = record(iface, outcome, knownState !== null && before !== knownState);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/** An HTTP answer as a verdict; `shape` says what is wrong with a 4xx body for this interface, if anything. */
export function httpOutcome(request: string, answer: RawAnswer, shape: (answer: RawAnswer) => string | undefined, committedStep = false): CaseOutcome | null {
  if (answer.status === -1) return null;
  const summary = `${clip(request)} → ${answer.status || answer.error} ${clip(answer.text, 300)}`;
  if (answer.status === 0) return { verdict: 'rejected', badShape: `no HTTP answer (${answer.error})`, summary };
  if (answer.status >= 500) return { verdict: 'server_error', summary };
  if (answer.status >= 400) {
    const bad = shape(answer);
    return { verdict: 'rejected', committedStep, summary, ...(bad ? { badShape: bad } : {}) };
  }
  return { verdict: 'accepted', summary };
}

/** REST /v1 and the cloud app: {"error": {code, message, details}}. */
export function restErrorShape(answer: { json: any }): string | undefined {
  const error = answer.json?.error;
  if (typeof error?.code !== 'string' || typeof error?.message !== 'string') return 'expected {"error": {"code", "message", "details"}}';
  return undefined;
}

/** REST: a rejected tool call commits a step and says so (422/409 with error.details.step). */
export function restCommittedStep(answer: { status: number; json: any }): boolean {
  return (answer.status === 422 || answer.status === 409) && answer.json?.error?.details?.step !== undefined;
}

/** OpenEnv HTTP (FastAPI's shape): {"detail": string | errors}. */
export function openEnvErrorShape(answer: { json: any }): string | undefined {
  return answer.json !== null && typeof answer.json === 'object' && 'detail' in answer.json ? undefined : 'expected {"detail": …}';
}

/** A JSON-RPC 2.0 error response. */
export function jsonRpcErrorShape(message: any): string | undefined {
  const ok = message?.jsonrpc === '2.0' && typeof message?.error?.code === 'number' && typeof message?.error?.message === 'string' && 'id' in message;
  return ok ? undefined : 'expected a JSON-RPC error {"jsonrpc": "2.0", "id", "error": {"code", "message"}}';
}

export const JSON_RPC_INTERNAL_ERROR = -32603;

/** A JSON-RPC response as a verdict (the HTTP status is checked by the caller). */
export function jsonRpcVerdict(message: any, summary: string): CaseOutcome {
  if (message?.error) {
    if (message.error.code === JSON_RPC_INTERNAL_ERROR) return { verdict: 'server_error', summary };
    const bad = jsonRpcErrorShape(message);
    return { verdict: 'rejected', summary, ...(bad ? { badShape: bad } : {}) };
  }
  if (message?.jsonrpc === '2.0' && 'result' in message) return { verdict: 'accepted', summary };
  return { verdict: 'rejected', badShape: 'neither a JSON-RPC result nor error', summary };
}
