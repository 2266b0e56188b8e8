export * from './bootstrap';
export * from './eval-episode';
export * from './eval-plan';
export * from './eval-scheduler';
export * from './task-summary';
