import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import type { z } from 'zod';
import { apiGatewaySchema } from './api-gateway-schema';

export interface WireContractModelProps {
  restApi: apigw.IRestApi;
  modelName: string;
  /** The wire contract's schema of the request body (layers/core wire-contract.ts). */
  body: z.ZodType;
}

/** A JSON request model generated from the wire contract at synth time, so API Gateway refuses what the api Lambda would. */
export class WireContractModel extends apigw.Model {
  constructor(scope: Construct, id: string, props: WireContractModelProps) {
    super(scope, id, {
      restApi: props.restApi,
      contentType: 'application/json',
      modelName: props.modelName,
      schema: { ...apiGatewaySchema(props.body), title: props.modelName },
    });
  }
}
