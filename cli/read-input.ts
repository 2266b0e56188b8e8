import { readFile } from 'node:fs/promises';
import { UsageError } from './command';

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads JSON from a file path, or from standard input when the path is "-". */
export async function readJsonInput(path: string, stdin: NodeJS.ReadableStream, what: string): Promise<unknown> {
  let text: string;
  try {
    text = path === '-' ? await readStream(stdin) : await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} from ${path === '-' ? 'standard input' : path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} in ${path === '-' ? 'standard input' : path} is not valid JSON: ${(e as Error).message}`);
  }
}
