export * from './types.js';
export * from './parse-inbound.js';
export * from './build-messages.js';
