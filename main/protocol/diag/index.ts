export * from './client.js';
export * from './hdlc.js';
