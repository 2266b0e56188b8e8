import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../layers/datasets/src';
import { ENVIRONMENT_NAME } from '../layers/server/src';
import { isProcessAlive } from '../layers/storage/src/local-runtime';

/**
 * `ml-trainer serve` says where it listens in its state directory (server.json), so the
 * commands that would open that directory (locked while the server holds it) talk to the
 * server instead. The file is a hint, never trusted: a server is "running" only when its
 * process lives and its URL answers as an ml-trainer server.
 */
export const DISCOVERY_FILE = 'server.json';

const discoverySchema = z.object({
  schema_version: z.literal(1),
  /** A URL this machine reaches the server at (loopback for a wildcard bind address). */
  url: z.string().url(),
  rest: z.string().url(),
  mcp: z.string().url(),
  pid: z.number().int().positive(),
  version: z.string(),
  started_at: z.string().datetime(),
});

export type ServerDiscovery = z.infer<typeof discoverySchema>;

const DISCOVERY_MAX_BYTES = 16 * 1024;

/** How long a probe waits for GET /metadata: a live local server answers in milliseconds. */
const PROBE_TIMEOUT_MS = 1500;

export function discoveryPath(stateDir: string): string {
  return join(stateDir, DISCOVERY_FILE);
}

/** Written once the server listens; atomically, so a reader never sees half of it. */
export async function writeDiscovery(stateDir: string, discovery: Omit<ServerDiscovery, 'schema_version'>): Promise<void> {
  await writeFileAtomic(discoveryPath(stateDir), `${JSON.stringify({ schema_version: 1, ...discovery }, null, 2)}\n`);
}

/** Removed on a clean close, unless another server has written its own since (only ours is removed). */
export async function removeDiscovery(stateDir: string, ours: Pick<ServerDiscovery, 'pid' | 'started_at'>): Promise<void> {
  const current = await readDiscovery(stateDir);
  if (current !== null && (current.pid !== ours.pid || current.started_at !== ours.started_at)) return;
  await rm(discoveryPath(stateDir), { force: true });
}

/** The file's content, or null when there is none or it is not one (damaged, another version). */
export async function readDiscovery(stateDir: string): Promise<ServerDiscovery | null> {
  let text: string;
  try {
    const file = discoveryPath(stateDir);
    // Ours is a few hundred bytes; anything far larger is not one, and is not read into memory.
    if ((await stat(file)).size > DISCOVERY_MAX_BYTES) return null;
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = discoverySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** What the state directory says about a server on it. */
export type ServerOnStateDir =
  /** Its process lives and its URL answers as an ml-trainer server. */
  | { kind: 'running'; discovery: ServerDiscovery }
  /** Its process lives, but nothing answers at its URL as an ml-trainer server (starting, stopping, hung). */
  | { kind: 'silent'; discovery: ServerDiscovery }
  /** No file, a damaged one, or one left by a process that is gone. */
  | { kind: 'none' };

export async function findServerOnStateDir(stateDir: string): Promise<ServerOnStateDir> {
  const discovery = await readDiscovery(stateDir);
  if (discovery === null || !isProcessAlive(discovery.pid)) return { kind: 'none' };
  return (await probeMlTrainer(discovery.url)) === null ? { kind: 'silent', discovery } : { kind: 'running', discovery };
}

/** The version of the ml-trainer server answering at `url`, or null when none does (nothing, another program, no answer in time). */
export async function probeMlTrainer(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<string | null> {
  try {
    const response = await fetch(new URL('metadata', url.endsWith('/') ? url : `${url}/`), { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json()) as { name?: unknown; version?: unknown } | null;
    if (!response.ok || body?.name !== ENVIRONMENT_NAME) return null;
    return typeof body.version === 'string' ? body.version : 'unknown';
  } catch {
    return null;
  }
}
