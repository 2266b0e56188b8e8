import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';

export interface TenantUsagePlanProps {
  config: DeploymentConfig;
  api: apigw.RestApi;
}

/** The default plan of tenant API keys: per-key throttle and quota on the API's stage. */
export class TenantUsagePlan extends apigw.UsagePlan {
  constructor(scope: Construct, id: string, { config, api }: TenantUsagePlanProps) {
    super(scope, id, {
      name: `${config.prefix}-default`,
      description: 'Default tenant plan: associate each tenant API key with it (or with a per-tenant plan, see infra/README.md)',
      throttle: { rateLimit: config.api.rateLimit, burstLimit: config.api.burstLimit },
      quota: { limit: config.api.quotaLimit, period: apigw.Period[config.api.quotaPeriod] },
      apiStages: [{ api, stage: api.deploymentStage }],
    });
  }
}
