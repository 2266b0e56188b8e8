/**
 * A server that cannot be reached at all: nothing listens, its name is unknown, no connection
 * opens in time, or fetch refuses the port. On a first contact, retrying this for seconds
 * only delays the one thing to say: which URL was tried and what to run instead.
 */
export interface Unreachable {
  /** What went wrong, naming the URL: "nothing listens at http://127.0.0.1:8000 (connection refused, ECONNREFUSED)". */
  what: string;
  /** The next step that fixes it: "start one with `npx ml-trainer serve` (or `npm start`) in another terminal". */
  next: string;
}

/** Codes of a connection that never reached a server (undici puts them on the error's cause). */
const UNKNOWN_NAME = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME']);
const NO_ANSWER = new Set(['UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The failure of a fetch to `url` as an Unreachable, or null when the server may well have been reached (a reset, a closed socket). */
export function unreachableServer(url: string, error: unknown): Unreachable | null {
  const target = new URL(url);
  const origin = target.origin;
  const e = error as { cause?: { code?: string; message?: string } } | null;
  const code = e?.cause?.code;
  if (code === 'ECONNREFUSED') {
    const start = startCommandFor(target);
    return {
      what: `nothing listens at ${origin} (connection refused, ${code})`,
      next: start === null ? 'check the URL and that the server is up' : `start one with ${start} in another terminal`,
    };
  }
  if (code !== undefined && UNKNOWN_NAME.has(code)) {
    return { what: `the host name ${target.hostname} of ${origin} is not known (${code})`, next: 'check the host name in the URL' };
  }
  // A connection that never opened; a request that timed out after it did (TimeoutError) may be a slow server (a cold start) and is retried.
  if (code !== undefined && NO_ANSWER.has(code)) {
    return { what: `no answer from ${origin} (${code})`, next: 'check the URL and that the server is up and reachable from here' };
  }
  // fetch never connects to the ports on the Fetch standard's block list (1, 9, 6000, …).
  if (e?.cause?.message === 'bad port') {
    return { what: `fetch refuses port ${target.port} of ${origin} (the Fetch standard blocks it)`, next: 'serve on another port (--port) and use that URL' };
  }
  return null;
}

/** "nothing listens at …. Next: start one …, or <alternative>." (`alternative`: how to do without a server, e.g. "play in-process without --url"; null: none). */
export function unreachableMessage(unreachable: Unreachable, alternative: string | null): string {
  return `${unreachable.what}. Next: ${unreachable.next}${alternative === null ? '' : `, or ${alternative}`}.`;
}

function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/** How to start a server at this URL (serve's default port is 8000); null for a URL on another host. */
function startCommandFor(url: URL): string | null {
  if (!isLoopbackHost(url.hostname)) return null;
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  if (port === '8000') return '`npx ml-trainer serve` (or `npm start`)';
  return `\`npx ml-trainer serve --port ${port}\` (or \`ML_TRAINER_PORT=${port} npm start\`)`;
}
