// Placeholder created with the CDK app (infra/) so that it can bundle this entry; the handler's
// author replaces it. The contract (event, environment variables) is in functions/README.md.
export async function handler(_event: unknown): Promise<never> {
  throw new Error('not implemented yet');
}
