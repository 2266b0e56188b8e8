import { UsageError, type CliCommand } from '../command';
import { CLOUD_SMOKE_DETAILS, CLOUD_SMOKE_USAGE, runCloudSmoke } from './cloud-smoke';

const HELP = `Usage:
${CLOUD_SMOKE_USAGE}

Works with a deployed stack (Deploy to AWS in the README; infra/README.md).

${CLOUD_SMOKE_DETAILS}
  -h, --help         show this help`;

export const cloudCommand: CliCommand = {
  name: 'cloud',
  summary: 'check a deployed stack end to end (smoke: a short episode, usage, a report)',
  help: HELP,
  async run(argv, io) {
    const [action, ...rest] = argv;
    if (action === 'smoke') return runCloudSmoke(rest, io);
    throw new UsageError(action === undefined ? 'say what to do: smoke' : `unknown action ${JSON.stringify(action)}; actions: smoke`);
  },
};
