/**
 * The limits every way into the service applies to what a client sends: how large a JSON
 * document (HTTP body, WebSocket frame, event body) and how deeply nested it may be, and how
 * long a URL. Deep nesting is refused before anything walks the value: serializing,
 * hashing or validating a value recurses once per level, and a few kilobytes of `[[[[…`
 * would overflow the stack of whatever touched it first.
 */

/** Largest JSON document (HTTP body, WebSocket frame) in UTF-8 bytes, unless a server is configured otherwise. */
export const JSON_MAX_BYTES = 64 * 1024;

/** Deepest nesting of objects and arrays; the deepest document any tool, JSON-RPC or MCP message needs is under 10. */
export const JSON_MAX_DEPTH = 64;

/** Longest request URL (path and query) in characters; ids are at most 255, cursors 2048. */
export const URL_MAX_LENGTH = 4096;

export interface JsonLimits {
  maxBytes: number;
  maxDepth: number;
}

export type JsonParseResult =
  | { ok: true; value: unknown }
  | { ok: false; problem: 'too_large' | 'too_deep' | 'invalid_json'; message: string };

const DEFAULT_LIMITS: JsonLimits = { maxBytes: JSON_MAX_BYTES, maxDepth: JSON_MAX_DEPTH };

/** UTF-8 length of one UTF-16 code unit (a surrogate pair counts 2 + 2 = 4). */
function utf8Length(code: number): number {
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return 2;
  return 3;
}

/**
 * One pass over the text, without recursion: its UTF-8 size and whether its nesting stays
 * within the limit (brackets inside strings do not count). Malformed text is left to JSON.parse.
 */
function scan(text: string, limits: JsonLimits): JsonParseResult | null {
  let bytes = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    bytes += utf8Length(code);
    if (inString) {
      if (escaped) escaped = false;
      else if (code === 0x5c /* \ */) escaped = true;
      else if (code === 0x22 /* " */) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      depth += 1;
      if (depth > limits.maxDepth) {
        return { ok: false, problem: 'too_deep', message: `JSON is nested deeper than the limit of ${limits.maxDepth} levels.` };
      }
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      depth -= 1;
    }
  }
  if (bytes > limits.maxBytes) return { ok: false, problem: 'too_large', message: `JSON is larger than the limit of ${limits.maxBytes} bytes.` };
  return null;
}

/** JSON text parsed within the size and depth limits (O(n), no recursion); every refusal is a value naming the problem. */
export function parseJsonWithLimits(text: string, limits: Partial<JsonLimits> = {}): JsonParseResult {
  const refused = scan(text, { ...DEFAULT_LIMITS, ...limits });
  if (refused !== null) return refused;
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, problem: 'invalid_json', message: `Invalid JSON: ${(e as Error).message}` };
  }
}

/**
 * Whether an already-parsed value (a Lambda event the runtime parsed) nests objects and
 * arrays at most `maxDepth` deep; an iterative walk that stops at the first level too deep.
 */
export function isWithinJsonDepth(value: unknown, maxDepth: number = JSON_MAX_DEPTH): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (next.value === null || typeof next.value !== 'object') continue;
    const depth = next.depth + 1;
    if (depth > maxDepth) return false;
    for (const item of Object.values(next.value)) pending.push({ value: item, depth });
  }
  return true;
}
