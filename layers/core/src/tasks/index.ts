export * from './dataset-name';
export * from './model-kind';
export * from './registry';
export * from './task-definition';
export * from './task-module';
