import { z } from 'zod';
import { DEFAULT_PRICES } from './config';

/** The training function's instruction set: it sets the GB-second price. */
export const LAMBDA_ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type LambdaArchitecture = (typeof LAMBDA_ARCHITECTURES)[number];

/** The unit prices the cost model (cost-model.ts) charges, in USD. */
export interface CostPrices {
  /** Lambda duration per GB-second, x86_64 (the deployment's PRICE_LAMBDA_GB_SECOND_USD default). */
  lambdaGbSecondX86Usd: number;
  /** Lambda duration per GB-second, arm64. */
  lambdaGbSecondArmUsd: number;
  /** Lambda, per invocation (both architectures). */
  lambdaRequestUsd: number;
  /** API Gateway REST API, per request (first 333 million a month). */
  apiGatewayRequestUsd: number;
  /** DynamoDB on-demand, per write request unit (1 KB of item written). */
  dynamoWriteUnitUsd: number;
  /** DynamoDB on-demand, per read request unit (4 KB of item, strongly consistent). */
  dynamoReadUnitUsd: number;
  /** S3 Standard PUT, per request. */
  s3PutUsd: number;
  /** S3 Standard GET, per request. */
  s3GetUsd: number;
}

/**
 * us-east-1 list prices. Lambda's x86 GB-second and request prices are the deployment's
 * (config.ts DEFAULT_PRICES, what GET /v1/usage charges); the others have no other owner
 * in the repository: this is theirs. From the AWS pricing pages of Lambda (arm64
 * $0.0000133334 per GB-s, first tier), API Gateway (REST $3.50 per million), DynamoDB
 * on-demand (since the 2024-11-01 cut: $0.625 per million WRU, $0.125 per million RRU) and
 * S3 Standard ($0.005 per 1,000 PUT, $0.0004 per 1,000 GET), as of 2026-12.
 */
export const US_EAST_1_PRICES: CostPrices = {
  lambdaGbSecondX86Usd: DEFAULT_PRICES.lambdaGbSecondUsd,
  lambdaGbSecondArmUsd: 0.0000133334,
  lambdaRequestUsd: DEFAULT_PRICES.lambdaRequestUsd,
  apiGatewayRequestUsd: 3.5 / 1e6,
  dynamoWriteUnitUsd: 0.625 / 1e6,
  dynamoReadUnitUsd: 0.125 / 1e6,
  s3PutUsd: 0.005 / 1000,
  s3GetUsd: 0.0004 / 1000,
};

export const COST_PRICE_NAMES = Object.keys(US_EAST_1_PRICES) as (keyof CostPrices)[];

export function isCostPriceName(name: string): name is keyof CostPrices {
  return (COST_PRICE_NAMES as string[]).includes(name);
}

const priceSchema = z.number().min(0).max(1);

/** The Lambda GB-second price of an architecture. */
export function gbSecondUsd(prices: CostPrices, architecture: LambdaArchitecture): number {
  return architecture === 'arm64' ? prices.lambdaGbSecondArmUsd : prices.lambdaGbSecondX86Usd;
}

/** `prices` with one price replaced; a value that is not a price (0-1 USD) is an error naming what is allowed. */
export function withPrice(prices: CostPrices, name: keyof CostPrices, value: number): CostPrices | { error: string } {
  const parsed = priceSchema.safeParse(value);
  if (!parsed.success) return { error: `${name} must be a price in USD between 0 and 1, got ${value}` };
  return { ...prices, [name]: parsed.data };
}
