import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config';
import { acknowledge } from '../nag';

export interface TenantRestApiProps {
  config: DeploymentConfig;
  accessLogs: logs.ILogGroup;
}

/** The error body every gateway-generated answer carries, the same shape the api Lambda answers with. */
function errorTemplate(code: string, message: string): Record<string, string> {
  return { 'application/json': `{"error":{"code":"${code}","message":${message}}}` };
}

/** Gateway-generated errors in the API's own shape: [type, status ('' = API Gateway's), code, message expression]. */
const GATEWAY_ERRORS: [apigw.ResponseType, string, string, string][] = [
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

/** One JSON line per request in the access logs, with the API key id (the tenant). */
function accessLogFormat(): apigw.AccessLogFormat {
  return apigw.AccessLogFormat.custom(
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
  );
}

function restApiProps({ config, accessLogs }: TenantRestApiProps): apigw.RestApiProps {
  return {
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
      accessLogFormat: accessLogFormat(),
      tracingEnabled: true,
      metricsEnabled: true,
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      // Request and response bodies (tool arguments, observations) stay out of the execution logs.
      dataTraceEnabled: false,
      throttlingRateLimit: config.api.stageRateLimit,
      throttlingBurstLimit: config.api.stageBurstLimit,
    },
  };
}

/**
 * The tenant-facing REST API without its routes: regional, API keys in the x-api-key header,
 * one stage with JSON access logs, X-Ray and a stage-wide throttle, and gateway errors in the
 * API's error shape.
 */
export class TenantRestApi extends apigw.RestApi {
  constructor(scope: Construct, id: string, props: TenantRestApiProps) {
    super(scope, id, restApiProps(props));
    this.acknowledgeFindings(props.config);
    for (const [type, statusCode, code, message] of GATEWAY_ERRORS) {
      this.addGatewayResponse(`Gateway${type.responseType}`, {
        type,
        ...(statusCode ? { statusCode } : {}),
        templates: errorTemplate(code, message),
      });
    }
  }

  private acknowledgeFindings(config: DeploymentConfig): void {
    acknowledge(this, 'AwsSolutions-APIG4', 'apiKeyAuth');
    acknowledge(this, 'AwsSolutions-COG4', 'apiKeyAuth');
    if (config.api.cloudWatchRole) {
      acknowledge(
        this,
        'AwsSolutions-IAM4',
        'apiCloudWatchRole',
        'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      );
    }
  }
}
