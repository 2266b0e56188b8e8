/**
 * What the Lambda handlers share. The api Lambda's fastify app is a secondary entry
 * (./api-app), so that the other functions' bundles carry no HTTP server.
 */
export * from './batch';
export * from './batch-report-builder';
export * from './batch-files';
export * from './batch-find';
export * from './batch-grade';
export * from './batch-results';
export * from './cloud-episode-service';
export * from './config';
export * from './cost-measurements';
export * from './cost-model';
export * from './cost-model-pick';
export * from './cost-model-prices';
export * from './cost-model-render';
export * from './dataset-sync';
export * from './episode-quota';
export * from './grading';
export * from './handler-support';
export * from './invokers';
export * from './lambda-event';
export * from './lazy-trainer';
export * from './leaderboard';
export * from './metering';
export * from './powertools';
export * from './step-estimate';
export * from './table-items';
export * from './training-protocol';
export * from './training-runtime';
