import { findServerOnStateDir, probeMlTrainer } from './server-discovery';

/** Where serve tried to listen and on which state directory. */
export interface ServeTarget {
  host: string;
  port: number;
  stateDir: string;
  /** A URL this machine reaches host:port at (loopback for a wildcard address). */
  localUrl: string;
}

const OTHER_PORT = 'run this one on another port: `--port 0` (a free one) or `--port N` (with npm start: `ML_TRAINER_PORT=N npm start`)';

/**
 * What to print when serve cannot start: what was tried, why, and the next command. Null for
 * a failure this does not know (the caller prints its message).
 */
export async function describeStartFailure(error: unknown, target: ServeTarget): Promise<string | null> {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const where = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  switch (code) {
    case 'EADDRINUSE': {
      const version = await probeMlTrainer(target.localUrl);
      if (version !== null) {
        return (
          `${where} is taken: an ml-trainer server (version ${version}) already answers at ${target.localUrl}.\n` +
          `Use it (\`--url ${target.localUrl}\` for agent and eval; the dashboard is ${target.localUrl}/), stop it, or ${OTHER_PORT}.`
        );
      }
      return `${where} is taken by another program (EADDRINUSE).\nNext: ${OTHER_PORT}.`;
    }
    case 'EACCES':
      return `no permission to listen on ${where} (EACCES): ports below 1024 need privileges.\nNext: a port from 1024 up, e.g. \`--port 8000\`, or \`--port 0\` for a free one.`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: ${target.host} is not an address of this machine (EADDRNOTAVAIL).\nNext: \`--host 127.0.0.1\` (this machine only), or an address one of its network interfaces has.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: the host name ${target.host} is not known (${code}).\nNext: \`--host 127.0.0.1\` (this machine only), or an address one of its network interfaces has.`;
    default:
      return /in use by another local runtime/.test((error as Error | null)?.message ?? '') ? describeBusyStateDir(error as Error, target.stateDir) : null;
  }
}

/** The state directory is locked: by a server that answers (use it), or by a process that does not serve it. */
async function describeBusyStateDir(error: Error, stateDir: string): Promise<string> {
  const server = await findServerOnStateDir(stateDir);
  if (server.kind === 'running') {
    const { url, pid } = server.discovery;
    return (
      `the state directory ${stateDir} is in use by the ml-trainer server already running at ${url} (process ${pid}).\n` +
      `Use it (\`--url ${url}\` for agent and eval; the dashboard is ${url}/), stop it, or give this one another \`--state-dir\`.`
    );
  }
  return `${error.message}\nNext: wait for that process to finish or stop it, or give this one another \`--state-dir\`.`;
}
