import type { AgentEnvironmentError } from '../layers/agent/src';

/** A check that failed on what the API answered (not on the HTTP exchange), with what to do about it. */
export class SmokeFailure extends Error {
  override readonly name = 'SmokeFailure';
  constructor(
    message: string,
    readonly nextStep: string,
  ) {
    super(message);
  }
}

const TENANTS = 'see infra/README.md, Tenants';
const UPLOAD_DATASETS = 'upload the datasets: ml-trainer datasets upload --bucket <DatasetsBucketName output> --dataset mnist (after ml-trainer datasets fetch --dataset mnist)';
const API_URL = 'check --url: the ApiUrl output of the api stack, with its stage (https://<id>.execute-api.<region>.amazonaws.com/prod/)';

/**
 * What to do after a failed check, from what the API (or API Gateway in front of it) answered.
 * API Gateway's own refusals carry {"message": ...} rather than the API's {"error": {code}}:
 * 403 "Forbidden" is a key it does not accept, 403 "Missing Authentication Token" a path
 * that is not one of the API's routes, 502/504 an api function that crashed or ran past 29 s.
 */
export function nextStepAfter(check: string, error: AgentEnvironmentError | SmokeFailure, url: string): string {
  if (error instanceof SmokeFailure) return error.nextStep;
  const { status, errorCode } = error.info;
  if (status === 403 && /Missing Authentication Token/i.test(error.message)) return `the URL does not lead to the API's routes: ${API_URL}`;
  if (status === 403) return `the API key is not associated with the usage plan (or is wrong or disabled): ${TENANTS}`;
  if (status === 401) return 'no API key id reached the api function: its methods must require an API key; deploy the api stack from this checkout (npx cdk deploy --all)';
  if (errorCode === 'dataset_unavailable') return UPLOAD_DATASETS;
  if (errorCode === 'episode_quota_exceeded') return `this tenant's monthly episode quota is used up: raise its limit or wait until it resets (${TENANTS})`;
  if (status === 429) return `the usage plan's throttle or quota refused the requests: wait, or raise the plan's limits (${TENANTS})`;
  if (errorCode === 'training_busy') return 'every training worker was busy: run the check again in a minute; if it persists, see infra/README.md on the training function\'s concurrency';
  if (status === 502 || status === 504) {
    return `API Gateway got no answer from the api function (${status === 502 ? 'it failed' : 'it ran past 29 s'}): read the api function's log group in CloudWatch Logs`;
  }
  if ((status !== undefined && status >= 500) || errorCode === 'step_failed') {
    const training = check === 'configure' || check === 'train' || check === 'submit';
    return training
      ? `read the training function's log group in CloudWatch Logs; if a dataset is missing from the bucket: ${UPLOAD_DATASETS}`
      : "read the api function's log group in CloudWatch Logs";
  }
  if (status === undefined && typeof (error.info.details as { poll?: unknown } | undefined)?.poll === 'string') {
    return "the step is still running on the server: give a longer --wait, or read the training function's log group in CloudWatch Logs";
  }
  if (status === 404 && check === 'tasks') return `the URL does not lead to the API's routes: ${API_URL}`;
  if (error.code === 'bad_response') return `${new URL(url).origin} answers, but not as the ml-trainer API: ${API_URL}`;
  if (error.code === 'unavailable' && status === undefined) return `cannot reach ${new URL(url).origin}: ${API_URL}, and the network (proxy, VPN)`;
  return 'the message above says what the API refused; infra/README.md has the operating notes';
}
