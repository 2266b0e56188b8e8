import { engines } from '../package.json';

/**
 * The AWS SDK's own switch for its "Node.js version support" warning (read by @aws-sdk/core's
 * emitWarningIfUnsupportedVersion when a client is built). Its warning is 9 lines, printed
 * once per process, so a command whose children build clients too printed it again and again.
 */
export const AWS_SDK_NODE_WARNING_ENV = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** The Node major lines package.json's engines allows ("^22 || ^24" → [22, 24]). */
export function supportedNodeLines(range: string = engines.node): number[] {
  return [...range.matchAll(/\^(\d+)/g)].map((m) => Number(m[1]));
}

/**
 * One line of advice when `version` is not a supported line, else null. It replaces the SDK's
 * warning, turned off in `env` (children inherit it), which also marks the advice as given:
 * the command's child processes stay quiet. On a supported line the SDK keeps its say.
 */
export function nodeAdvice(version: string = process.version, env: NodeJS.ProcessEnv = process.env): string | null {
  const lines = supportedNodeLines();
  const major = Number(version.replace(/^v/, '').split('.')[0]);
  if (lines.includes(major) || env[AWS_SDK_NODE_WARNING_ENV] === 'true') return null;
  env[AWS_SDK_NODE_WARNING_ENV] = 'true';
  const wanted = lines.join(' or ');
  // Within 80 columns: it is the first line a newcomer's terminal shows.
  return `note: Node ${version} is unsupported (use ${wanted}); npm start fetches Node ${lines[0]}\n`;
}
