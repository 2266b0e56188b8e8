import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/** API Gateway's integration timeout for a REST API: it answers 504 after this, whatever the Lambda still does. */
export const API_GATEWAY_TIMEOUT_MS = 29_000;

/**
 * How long the api Lambda can still answer this request: the smaller of its own remaining
 * time and what is left of API Gateway's 29 s, counted from when the request reached API
 * Gateway (requestContext.requestTimeEpoch), so the api's cold start (0.8-1.5 s) is spent
 * from the same budget and a synchronous step's wait is sized to it. Without a usable
 * requestTimeEpoch (not API Gateway, or a clock far off) only the Lambda's time counts.
 */
export function requestTimeLeft(event: Pick<APIGatewayProxyEvent, 'requestContext'>, context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, now: () => number = Date.now): () => number {
  const lambdaLeft = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : () => API_GATEWAY_TIMEOUT_MS;
  const receivedAt = event.requestContext?.requestTimeEpoch;
  const gatewayDeadline = typeof receivedAt === 'number' && Number.isFinite(receivedAt) && receivedAt <= now() ? receivedAt + API_GATEWAY_TIMEOUT_MS : null;
  if (gatewayDeadline === null) return lambdaLeft;
  return () => Math.max(0, Math.min(lambdaLeft(), gatewayDeadline - now()));
}
