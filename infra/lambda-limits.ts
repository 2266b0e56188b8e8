/**
 * AWS Lambda's limits and quotas that decide whether a configuration deploys (Lambda quotas;
 * "Lambda function memory" and "Concurrent executions" in Service Quotas). Memory and vCPU
 * facts are the cost model's (layers/cloud/src/cost-model.ts); the configuration's ranges
 * and error messages are built from them and from what this file adds.
 */
import { LAMBDA_MEMORY_RANGE_MB, MAX_VCPUS, MB_PER_VCPU, NEW_ACCOUNT_MEMORY_LIMIT_MB } from '../layers/cloud/src';

export { MAX_VCPUS, MB_PER_VCPU, NEW_ACCOUNT_MEMORY_LIMIT_MB };

/** The most memory a function may have once the account's quota allows it. */
export const LAMBDA_MAX_MEMORY_MB = LAMBDA_MEMORY_RANGE_MB.max;

/**
 * Lambda keeps this many executions of the account's "Concurrent executions" quota
 * unreserved: a reservation that would leave fewer fails the deployment.
 */
export const MIN_UNRESERVED_CONCURRENCY = 100;

/** The vCPUs a function of this memory size runs on (partly, for the last one). */
export function vcpusFor(memoryMb: number): number {
  return Math.min(MAX_VCPUS, Math.ceil(memoryMb / MB_PER_VCPU));
}

/** The least memory that gives `vcpus` vCPUs (vcpusFor(minimumMemoryForVcpus(n)) = n). */
export function minimumMemoryForVcpus(vcpus: number): number {
  return (vcpus - 1) * MB_PER_VCPU + 1;
}

/** Appended to errors about the training memory: which quota a larger value runs into. */
export const MEMORY_QUOTA_NOTE =
  `Lambda allows up to ${LAMBDA_MAX_MEMORY_MB} MB, but new accounts are limited to ${NEW_ACCOUNT_MEMORY_LIMIT_MB} MB per function ` +
  `until AWS raises the quota 'Lambda function memory' (Service Quotas > AWS Lambda); below ${MB_PER_VCPU} MB ` +
  'a function gets less than one vCPU and training slows in proportion.';

/** Appended to errors about reserved concurrency: which quota a reservation takes from. */
export const CONCURRENCY_QUOTA_NOTE =
  `A reservation is taken from the account's 'Concurrent executions' quota, which must stay >= ${MIN_UNRESERVED_CONCURRENCY} unreserved: ` +
  `it needs a quota of at least ${MIN_UNRESERVED_CONCURRENCY} + the reservation (new accounts may have 10; ` +
  "Service Quotas > AWS Lambda > 'Concurrent executions'). Use none to reserve nothing.";
