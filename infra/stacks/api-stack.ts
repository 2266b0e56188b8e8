import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { API_FUNCTION_MEMORY_MB } from '../../layers/cloud/src';
import { TABLE_LAYOUT } from '../../layers/storage/src';
import type { DeploymentConfig } from '../config';
import { addApiRoutes } from '../constructs/api-routes';
import { allowInvoke, allowTableReadWrite } from '../constructs/permissions';
import { NodeServiceFunction } from '../constructs/service-function';
import { TenantRestApi } from '../constructs/tenant-rest-api';
import { TenantUsagePlan } from '../constructs/tenant-usage-plan';
import { acknowledge } from '../nag';
import { HANDLER_ENTRIES } from '../paths';
import type { ComputeStack } from './compute-stack';
import type { DataStack } from './data-stack';

export interface ApiStackProps extends StackProps {
  config: DeploymentConfig;
  data: DataStack;
  compute: ComputeStack;
}

/**
 * The tenant-facing REST API: API Gateway (regional, API keys + usage plans, access logs,
 * X-Ray, request validation) in front of the api Lambda, which may invoke the training
 * Lambda (synchronously for short steps, asynchronously for long ones) and the grade Lambda.
 */
export class ApiStack extends Stack {
  readonly api: apigw.RestApi;
  readonly apiFunction: NodeServiceFunction;
  readonly usagePlan: apigw.UsagePlan;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.apiFunction = this.apiHandler(props);
    this.api = new TenantRestApi(this, 'Api', { config, accessLogs: this.accessLogs(config) });
    this.protectWithWaf(config);
    addApiRoutes(this.api, new apigw.LambdaIntegration(this.apiFunction.function, { proxy: true, allowTestInvoke: false }));
    // In the API's scope, as RestApi.addUsagePlan creates it: the plan (and its tenant keys) keeps its logical id.
    this.usagePlan = new TenantUsagePlan(this.api, 'DefaultPlan', { config, api: this.api });
    this.addOutputs();
  }

  /** The api Lambda: may read and write the table and invoke the training and grade Lambdas. */
  private apiHandler({ config, data, compute }: ApiStackProps): NodeServiceFunction {
    const handler = new NodeServiceFunction(this, 'ApiHandler', {
      config,
      entry: HANDLER_ENTRIES.api,
      description: 'ml-trainer-env api: the REST API /v1 (episodes, steps, usage, tools, tasks)',
      serviceName: 'ml-trainer-api',
      memorySize: API_FUNCTION_MEMORY_MB,
      // API Gateway stops waiting after 29 s; a longer-running api Lambda would only burn money.
      timeout: Duration.seconds(29),
      environment: {
        ...data.storageEnvironment(config),
        TRAINING_FUNCTION_NAME: compute.trainingFunction.functionName,
        GRADE_FUNCTION_NAME: compute.gradeFunction.functionName,
        SYNC_STEP_BUDGET_MS: String(config.api.syncStepBudgetSeconds * 1000),
        // Episodes per tenant and calendar month (0 = unlimited); a tenant's own limit is a table item.
        EPISODE_QUOTA_PER_MONTH: String(config.api.episodeQuotaPerMonth),
        TRAINING_MEMORY_MB: String(config.training.memoryMb),
        PRICE_PER_EPISODE_USD: String(config.prices.perEpisodeUsd),
        PRICE_LAMBDA_GB_SECOND_USD: String(config.prices.lambdaGbSecondUsd),
        PRICE_LAMBDA_REQUEST_USD: String(config.prices.lambdaRequestUsd),
      },
    });
    allowTableReadWrite(handler.role, data.tableAccess([TABLE_LAYOUT.indexes.byTenant.name]));
    allowInvoke(handler.role, compute.trainingFunction.functionArn);
    allowInvoke(handler.role, compute.gradeFunction.functionArn);
    return handler;
  }

  private accessLogs(config: DeploymentConfig): logs.LogGroup {
    return new logs.LogGroup(this, 'AccessLogs', {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }

  private protectWithWaf(config: DeploymentConfig): void {
    if (config.api.wafWebAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', { resourceArn: this.api.deploymentStage.stageArn, webAclArn: config.api.wafWebAclArn });
    } else {
      acknowledge(this.api, 'AwsSolutions-APIG3', 'apiWaf');
    }
  }

  private addOutputs(): void {
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'Base URL of the REST API (routes under /v1; send the key in x-api-key)',
    });
    new CfnOutput(this, 'RestApiId', { value: this.api.restApiId });
    new CfnOutput(this, 'UsagePlanId', { value: this.usagePlan.usagePlanId, description: 'Default usage plan of tenant API keys' });
    new CfnOutput(this, 'ApiKeyHowTo', {
      description: 'Onboard a tenant: create an API key (its id is the tenant id), attach it to the default usage plan, print the key value',
      value: [
        `KEY_ID=$(aws apigateway create-api-key --name <tenant-name> --enabled --region ${this.region} --query id --output text)`,
        `aws apigateway create-usage-plan-key --usage-plan-id ${this.usagePlan.usagePlanId} --key-id "$KEY_ID" --key-type API_KEY --region ${this.region}`,
        `aws apigateway get-api-key --api-key "$KEY_ID" --include-value --query value --output text --region ${this.region}`,
      ].join(' && '),
    });
  }
}
