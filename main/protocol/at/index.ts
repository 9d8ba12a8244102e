export * from './client.js';
export * from './errors.js';
export * from './identify.js';
export * from './lines.js';
