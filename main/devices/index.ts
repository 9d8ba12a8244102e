/** main/devices public surface: device model, registry, discovery sources and identification. */
export {
  type AdbEndpointOptions,
  type AdbEndpointSpec,
  type AdbOpener,
  adbEndpoint,
  adbSource,
  tcpUnitEndpoints,
} from './adb-endpoints.js';
export { rebootDevice } from './device-actions.js';
export * from './device-info.js';
export { type Discovery, startDiscovery } from './discovery.js';
export { type EdlSourceOptions, edlId, edlSource, probeEdl } from './edl-source.js';
export {
  describeId,
  type Endpoint,
  type EndpointSourceOptions,
  endpointSource,
  type FastbootEndpoint,
  probeAnyEndpoint,
  probeEndpoint,
} from './endpoint-source.js';
export { describeFailure, IDENTIFY_TIMEOUT_MS, type Identity, identifyFastboot } from './identify.js';
export { type AdbEndpoint, identifyAdb, probeAdbEndpoint } from './identify-adb.js';
export { enterModemEdl, identifyModemAt, NoModeSwitchError } from './modem-actions.js';
export { modemSource } from './modem-source.js';
export { loadModemVendors, matchModemVendor } from './modem-vendors.js';
export { DeviceRegistry } from './registry.js';
export type { DeviceControl, DeviceSink, DeviceSource, Probe } from './source.js';
export {
  type SerialSourceOptions,
  serialSource,
  type TcpEndpointSpec,
  tcpEndpoint,
  tcpSource,
  type UsbSourceOptions,
  usbDeviceId,
  usbSource,
} from './transport-sources.js';
