/**
 * What an error message may repeat of a client's input: at most ECHO_MAX_CHARS characters
 * of it. Echoing input unbounded makes the error as large as the input, and serializing a
 * deeply nested echo overflows the stack while the error is being answered.
 */

export const ECHO_MAX_CHARS = 100;

/** A string as an error may quote it: cut to ECHO_MAX_CHARS, marked with "…" when cut. */
export function echoText(text: string): string {
  return text.length <= ECHO_MAX_CHARS ? text : `${text.slice(0, ECHO_MAX_CHARS)}…`;
}

/** Whether a value's JSON is at most ECHO_MAX_CHARS long, estimated by an iterative walk that stops at the budget. */
function isSmall(value: unknown): boolean {
  let cost = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') cost += next.length + 2;
    else if (Array.isArray(next)) {
      cost += 2 + next.length;
      if (cost <= ECHO_MAX_CHARS) pending.push(...next);
    } else if (next !== null && typeof next === 'object') {
      const entries = Object.entries(next);
      cost += 2;
      for (const [key, item] of entries) {
        cost += key.length + 4;
        // Stryker disable next-line ConditionalExpression: only saves queueing the rest of a large object's values; the check below refuses it anyway
        if (cost > ECHO_MAX_CHARS) break;
        pending.push(item);
      }
    } else cost += String(next).length;
    if (cost > ECHO_MAX_CHARS) return false;
  }
  return true;
}

/** A part of the input as an error may carry it (pydantic's `input`): small values as they are, large ones as a short description. */
export function echoInput(value: unknown): unknown {
  if (typeof value === 'string') return echoText(value);
  // Every scalar is small: only an array or an object can be described here.
  if (isSmall(value)) return value;
  return Array.isArray(value) ? `[an array of ${value.length} items]` : `{an object with ${Object.keys(value as object).length} keys}`;
}

/** A value as JSON text an error message may embed (never longer than about ECHO_MAX_CHARS). */
export function echoJson(value: unknown): string {
  const echoed = echoInput(value);
  if (typeof value !== 'string' && typeof echoed === 'string') return echoed; // the description of a large value
  return JSON.stringify(echoed) ?? String(echoed);
}
