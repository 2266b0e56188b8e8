// The CDK app of the AWS deployment (cdk.json: `npx tsx infra/app.ts`). Stacks, knobs and the
// operator's steps: infra/README.md. cdk-nag's AwsSolutions checks run on every synth.
import { buildApp } from './build-app';

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
const { app } = buildApp({ env: account || region ? { account, region } : undefined });
app.synth();
