export * from './call-identity';
export * from './deferred-step-service';
export * from './episode-lookup';
export * from './episode-service';
export * from './step-executor';
export * from './step-plan';
export * from './stored-episode-catalog';
export * from './stored-episode-service';
