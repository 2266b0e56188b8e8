import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { allowInvoke, allowTableReadWrite } from '../constructs/permissions';
import { NodeServiceFunction } from '../constructs/service-function';
import { acknowledge } from '../nag';
import { HANDLER_ENTRIES } from '../paths';
import type { ComputeStack } from './compute-stack';
import { TABLE_SCHEMA, type DataStack } from './data-stack';

export interface ApiStackProps extends StackProps {
  config: DeploymentConfig;
  data: DataStack;
  compute: ComputeStack;
}

/** The REST API's routes (all under /v1, all requiring an API key, all served by the api Lambda). */
export const API_ROUTES = [
  { method: 'GET', path: '/v1/tasks' },
  { method: 'GET', path: '/v1/tools' },
  { method: 'GET', path: '/v1/usage' },
  { method: 'GET', path: '/v1/episodes' },
  { method: 'POST', path: '/v1/episodes' },
  { method: 'GET', path: '/v1/episodes/{episode_id}' },
  { method: 'POST', path: '/v1/episodes/{episode_id}/steps' },
  { method: 'GET', path: '/v1/episodes/{episode_id}/steps/{step_id}' },
] as const;

/** The error body every gateway-generated answer carries, the same shape the api Lambda answers with. */
function errorTemplate(code: string, message: string): Record<string, string> {
  return { 'application/json': `{"error":{"code":"${code}","message":${message}}}` };
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
    const { config, data, compute } = props;

    this.apiFunction = new NodeServiceFunction(this, 'ApiHandler', {
      config,
      entry: HANDLER_ENTRIES.api,
      description: 'ml-trainer-env api: the REST API /v1 (episodes, steps, usage, tools, tasks)',
      serviceName: 'ml-trainer-api',
      memorySize: 1024,
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
    const apiRole = this.apiFunction.role;
    allowTableReadWrite(apiRole, data.tableAccess([TABLE_SCHEMA.gsiTenant.name]));
    allowInvoke(apiRole, compute.trainingFunction.functionArn);
    allowInvoke(apiRole, compute.gradeFunction.functionArn);

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `${config.prefix}-api`,
      description: 'ml-trainer-env: an evaluation environment in which an agent configures real neural-network training',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      cloudWatchRole: config.api.cloudWatchRole,
      // Other APIs of the account may rely on the account-level role: keep it when this stack goes.
      ...(config.api.cloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      defaultMethodOptions: { apiKeyRequired: true },
      deployOptions: {
        stageName: config.api.stageName,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigw.AccessLogField.contextRequestId(),
            requestTime: apigw.AccessLogField.contextRequestTime(),
            apiKeyId: apigw.AccessLogField.contextIdentityApiKeyId(),
            sourceIp: apigw.AccessLogField.contextIdentitySourceIp(),
            userAgent: apigw.AccessLogField.contextIdentityUserAgent(),
            httpMethod: apigw.AccessLogField.contextHttpMethod(),
            resourcePath: apigw.AccessLogField.contextResourcePath(),
            path: apigw.AccessLogField.contextPath(),
            status: apigw.AccessLogField.contextStatus(),
            responseLength: apigw.AccessLogField.contextResponseLength(),
            responseLatency: apigw.AccessLogField.contextResponseLatency(),
            integrationLatency: apigw.AccessLogField.contextIntegrationLatency(),
            integrationStatus: apigw.AccessLogField.contextIntegrationStatus(),
            errorType: apigw.AccessLogField.contextErrorResponseType(),
            errorMessage: apigw.AccessLogField.contextErrorMessage(),
            xrayTraceId: apigw.AccessLogField.contextXrayTraceId(),
          }),
        ),
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Request and response bodies (tool arguments, observations) stay out of the execution logs.
        dataTraceEnabled: false,
        throttlingRateLimit: config.api.stageRateLimit,
        throttlingBurstLimit: config.api.stageBurstLimit,
      },
    });
    acknowledge(this.api, 'AwsSolutions-APIG4', 'apiKeyAuth');
    acknowledge(this.api, 'AwsSolutions-COG4', 'apiKeyAuth');
    if (config.api.cloudWatchRole) {
      acknowledge(
        this.api,
        'AwsSolutions-IAM4',
        'apiCloudWatchRole',
        'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      );
    }
    if (config.api.wafWebAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', { resourceArn: this.api.deploymentStage.stageArn, webAclArn: config.api.wafWebAclArn });
    } else {
      acknowledge(this.api, 'AwsSolutions-APIG3', 'apiWaf');
    }

    const validator = this.api.addRequestValidator('Validator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // Coarse shape checks only; the api Lambda answers field-level errors with the allowed values.
    const createEpisodeModel = this.api.addModel('CreateEpisode', {
      contentType: 'application/json',
      modelName: 'CreateEpisode',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        title: 'CreateEpisode',
        type: apigw.JsonSchemaType.OBJECT,
        required: ['task_id'],
        properties: {
          task_id: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 64 },
          seed: { type: apigw.JsonSchemaType.INTEGER, minimum: 0, maximum: 4294967295 },
        },
      },
    });
    const stepModel = this.api.addModel('Step', {
      contentType: 'application/json',
      modelName: 'Step',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        title: 'Step',
        type: apigw.JsonSchemaType.OBJECT,
        required: ['tool'],
        properties: {
          tool: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 64 },
          arguments: { type: apigw.JsonSchemaType.OBJECT },
          request_id: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 128 },
        },
      },
    });

    const integration = new apigw.LambdaIntegration(this.apiFunction.function, { proxy: true, allowTestInvoke: false });
    const v1 = this.api.root.addResource('v1');
    v1.addResource('tasks').addMethod('GET', integration);
    v1.addResource('tools').addMethod('GET', integration);
    v1.addResource('usage').addMethod('GET', integration);
    const episodes = v1.addResource('episodes');
    episodes.addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.querystring.limit': false, 'method.request.querystring.cursor': false },
    });
    episodes.addMethod('POST', integration, { requestValidator: validator, requestModels: { 'application/json': createEpisodeModel } });
    const episode = episodes.addResource('{episode_id}');
    episode.addMethod('GET', integration, { requestValidator: validator, requestParameters: { 'method.request.path.episode_id': true } });
    const steps = episode.addResource('steps');
    steps.addMethod('POST', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.path.episode_id': true },
      requestModels: { 'application/json': stepModel },
    });
    steps.addResource('{step_id}').addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.path.episode_id': true, 'method.request.path.step_id': true },
    });

    // Gateway-generated errors in the API's own shape: {"error": {"code", "message"}}.
    const gatewayErrors: [apigw.ResponseType, string, string, string][] = [
      [apigw.ResponseType.BAD_REQUEST_BODY, '400', 'invalid_request', '$context.error.messageString'],
      [apigw.ResponseType.BAD_REQUEST_PARAMETERS, '400', 'invalid_request', '$context.error.messageString'],
      [apigw.ResponseType.INVALID_API_KEY, '403', 'forbidden', '"A valid API key is required in the x-api-key header."'],
      // API Gateway answers an unknown route with 403 MISSING_AUTHENTICATION_TOKEN.
      [apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, '404', 'not_found', '"No such route."'],
      [apigw.ResponseType.QUOTA_EXCEEDED, '429', 'quota_exceeded', '$context.error.messageString'],
      [apigw.ResponseType.THROTTLED, '429', 'throttled', '$context.error.messageString'],
      [apigw.ResponseType.DEFAULT_4XX, '', 'request_rejected', '$context.error.messageString'],
      [apigw.ResponseType.DEFAULT_5XX, '', 'gateway_error', '$context.error.messageString'],
    ];
    for (const [type, statusCode, code, message] of gatewayErrors) {
      this.api.addGatewayResponse(`Gateway${type.responseType}`, {
        type,
        ...(statusCode ? { statusCode } : {}),
        templates: errorTemplate(code, message),
      });
    }

    this.usagePlan = this.api.addUsagePlan('DefaultPlan', {
      name: `${config.prefix}-default`,
      description: 'Default tenant plan: associate each tenant API key with it (or with a per-tenant plan, see infra/README.md)',
      throttle: { rateLimit: config.api.rateLimit, burstLimit: config.api.burstLimit },
      quota: { limit: config.api.quotaLimit, period: apigw.Period[config.api.quotaPeriod] },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });

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
