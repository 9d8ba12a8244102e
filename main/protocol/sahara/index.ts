/** Sahara (Qualcomm EDL boot ROM) host side: wire codec, client, errors, the programmer signer check. */
export {
  type CallOptions,
  SaharaClient,
  type SaharaClientOptions,
  type SaharaIdentity,
  type UploadOptions,
} from './client.js';
export {
  FirehoseAlreadyRunningError,
  ProgrammerRefusedError,
  SAHARA_ERROR_CODES,
  SaharaProtocolError,
  SaharaStatusError,
} from './errors.js';
export {
  buildSimulatedProgrammer,
  inspectProgrammer,
  type ProgrammerSource,
  SIM_HEADER_SIZE,
  simulatedSigner,
} from './programmer.js';
export * from './wire.js';
