import { App } from 'aws-cdk-lib';

// The stacks (data, compute, API, batch) arrive with the AWS deployment; until then the app synthesises empty.
const app = new App();
app.synth();
