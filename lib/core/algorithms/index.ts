export * from './gcra';
export * from './sliding-window';
export * from './concurrency';
export * from './decide';
