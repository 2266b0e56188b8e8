/**
 * AWS Lambda's limits and quotas that decide whether a configuration deploys, as AWS
 * documents them (Lambda quotas; "Lambda function memory" and "Concurrent executions" in
 * Service Quotas). The configuration's ranges and error messages are built from these.
 */

/** The most memory a function may have once the account's quota allows it. */
export const LAMBDA_MAX_MEMORY_MB = 10240;

/**
 * What new and low-quota accounts may give one function until AWS raises the quota
 * "Lambda function memory": a deployment that asks for more fails on such an account.
 */
export const NEW_ACCOUNT_MAX_MEMORY_MB = 3008;

/** Lambda gives one vCPU's worth of CPU per 1769 MB (6 vCPUs at 10240 MB). */
export const LAMBDA_MB_PER_VCPU = 1769;

/** The most vCPUs a function gets (at 10240 MB). */
export const LAMBDA_MAX_VCPUS = 6;

/**
 * Lambda keeps this many executions of the account's "Concurrent executions" quota
 * unreserved: a reservation that would leave fewer fails the deployment.
 */
export const MIN_UNRESERVED_CONCURRENCY = 100;

/** The vCPUs a function of this memory size runs on (partly, for the last one). */
export function vcpusFor(memoryMb: number): number {
  return Math.min(LAMBDA_MAX_VCPUS, Math.ceil(memoryMb / LAMBDA_MB_PER_VCPU));
}

/** The least memory that gives `vcpus` vCPUs (vcpusFor(minimumMemoryForVcpus(n)) = n). */
export function minimumMemoryForVcpus(vcpus: number): number {
  return (vcpus - 1) * LAMBDA_MB_PER_VCPU + 1;
}

/** Appended to errors about the training memory: which quota a larger value runs into. */
export const MEMORY_QUOTA_NOTE =
  `Lambda allows up to ${LAMBDA_MAX_MEMORY_MB} MB, but new accounts are limited to ${NEW_ACCOUNT_MAX_MEMORY_MB} MB per function ` +
  `until AWS raises the quota 'Lambda function memory' (Service Quotas > AWS Lambda); below ${LAMBDA_MB_PER_VCPU} MB ` +
  'a function gets less than one vCPU and training slows in proportion.';

/** Appended to errors about reserved concurrency: which quota a reservation takes from. */
export const CONCURRENCY_QUOTA_NOTE =
  `A reservation is taken from the account's 'Concurrent executions' quota, which must stay >= ${MIN_UNRESERVED_CONCURRENCY} unreserved: ` +
  `it needs a quota of at least ${MIN_UNRESERVED_CONCURRENCY} + the reservation (new accounts may have 10; ` +
  "Service Quotas > AWS Lambda > 'Concurrent executions'). Use none to reserve nothing.";
