/** Firehose (Qualcomm programmer protocol) host side: XML codec, stream framing, client, errors, file parsers. */
export * from './client.js';
export { detectStorage } from './detect-storage.js';
export * from './errors.js';
export { FirehoseReader, MAX_DOCUMENT } from './framing.js';
export * from './gpt.js';
export * from './partitions.js';
export { readToFile } from './read-to-file.js';
export * from './rescue-plan.js';
export * from './sectors.js';
export * from './session.js';
export * from './xml.js';
