import { parseArgs } from 'node:util';
import { DATASET_NAMES, DatasetError, type DatasetName, DatasetReport, fetchDataset, FetchResult, isDatasetName, resolveDataDir, verifyDatasets } from '../../layers/datasets/src';
import { UsageError, type CliCommand, type CliIO } from '../command';
import { downloadProgressPrinter } from '../download-progress';
import { DATASETS_UPLOAD_DETAILS, DATASETS_UPLOAD_USAGE, runDatasetsUpload } from './datasets-upload';

const DATASET_CHOICES = [...DATASET_NAMES, 'all'].join('|');

const HELP = `Usage:
  ml-trainer datasets fetch --dataset <${DATASET_CHOICES}> [--data-dir D] [--base-url U] [--json]
  ml-trainer datasets verify [--dataset <${DATASET_CHOICES}>] [--data-dir D] [--json]
${DATASETS_UPLOAD_USAGE}

fetch   downloads the official files into <data dir>/<dataset>/ and checks them against
        the official checksums before keeping them (a bad download is refused and leaves
        nothing behind; files already present and verified are kept):
          mnist          https://ossci-datasets.s3.amazonaws.com/mnist/ (torchvision's mirror)
          fashion_mnist  https://storage.googleapis.com/tensorflow/tf-keras-datasets/,
                         then Zalando's http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/
          cifar10        https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (MD5-checked,
                         then the batches are extracted and recorded as verified)
verify  checks every official file (training and test) of each dataset: present, well
        formed, and identical to the official release. Exit code 0 only when all are.

The data dir is --data-dir, else $ML_TRAINER_DATA_DIR, else $XDG_CACHE_HOME/ml-trainer/datasets
(~/.cache/ml-trainer/datasets). Progress goes to stderr.

Options (fetch, verify):
  --dataset <name>  ${DATASET_NAMES.join(', ')} or all (verify: default all)
  --data-dir <dir>  the data directory
  --base-url <url>  fetch from this mirror instead: <url>/<official file name>
  --json            print the results as JSON on stdout
  -h, --help        show this help

${DATASETS_UPLOAD_DETAILS}`;

export const datasetsCommand: CliCommand = {
  name: 'datasets',
  summary: 'fetch the official dataset files, verify the ones present, or upload them to a deployment',
  help: HELP,
  async run(argv, io) {
    const [action, ...rest] = argv;
    if (action === 'fetch') return runFetch(rest, io);
    if (action === 'verify') return runVerify(rest, io);
    if (action === 'upload') return runDatasetsUpload(rest, io);
    throw new UsageError(
      action === undefined ? 'say what to do: fetch, verify or upload' : `unknown action ${JSON.stringify(action)}; actions: fetch, verify, upload`,
    );
  },
};

function parseDatasets(value: string | undefined, required: boolean): DatasetName[] {
  if (value === undefined) {
    if (required) throw new UsageError(`--dataset is required (${DATASET_NAMES.join(', ')} or all)`);
    return [...DATASET_NAMES];
  }
  if (value === 'all') return [...DATASET_NAMES];
  if (!isDatasetName(value)) throw new UsageError(`unknown dataset ${JSON.stringify(value)}; datasets: ${DATASET_NAMES.join(', ')}, all`);
  return [value];
}

async function runFetch(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dataset: { type: 'string' }, 'data-dir': { type: 'string' }, 'base-url': { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const datasets = parseDatasets(values.dataset, true);
  const baseUrl = values['base-url'];
  if (baseUrl !== undefined && !/^https?:\/\/./.test(baseUrl)) throw new UsageError(`--base-url must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const results: FetchResult[] = [];
  let failed = false;
  for (const dataset of datasets) {
    try {
      results.push(await fetchDataset({ dataset, dataDir, baseUrl, onProgress: downloadProgressPrinter(io.stderr), env: io.env }));
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      io.stderr.write(`ml-trainer datasets fetch: ${err.message}\n`);
      failed = true;
    }
  }
  if (values.json) io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else for (const result of results) io.stdout.write(`${fetchSummary(result)}\n`);
  return failed ? 1 : 0;
}

function fetchSummary(result: FetchResult): string {
  const downloaded = result.files.filter((f) => f.status === 'downloaded').length;
  return `${result.dataset}: ${result.files.length} files verified in ${result.folder} (${downloaded} downloaded, ${result.files.length - downloaded} already present)`;
}

async function runVerify(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dataset: { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const datasets = parseDatasets(values.dataset, false);
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const reports = await verifyDatasets({ dataDir, datasets, env: io.env });
  if (values.json) io.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  else for (const report of reports) io.stdout.write(verifyText(report));
  return reports.every((r) => r.verified) ? 0 : 1;
}

function verifyText(report: DatasetReport): string {
  const lines = [`${report.dataset}: ${report.verified ? 'verified' : 'NOT verified'} (${report.folder})`];
  for (const file of report.files) {
    lines.push(`  ${file.status.padEnd(20)} ${file.path}${file.reason ? `\n  ${''.padEnd(20)} ${file.reason}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
