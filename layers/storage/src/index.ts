// What the Lambdas import: the AWS SDK adapters only. The local runtime (dynalite, s3rver)
// is imported from './local-runtime' directly, so that bundlers never pull the local
// servers (and LevelDB's native binary) into a Lambda bundle.
export * from './blob-store';
export * from './config';
export * from './episode-store';
export * from './errors';
export * from './item-size';
export * from './provisioning';
export * from './storage';
export * from './table-keys';
export * from './table-layout';
