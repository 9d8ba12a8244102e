/** main/devices public surface: device model, registry, discovery sources and identification. */
export * from './device-info.js';
export { type Discovery, startDiscovery } from './discovery.js';
export {
  describeId,
  type EndpointSourceOptions,
  endpointSource,
  type FastbootEndpoint,
  probeEndpoint,
} from './endpoint-source.js';
export { describeFailure, IDENTIFY_TIMEOUT_MS, type Identity, identifyFastboot } from './identify.js';
export { DeviceRegistry } from './registry.js';
export type { DeviceSink, DeviceSource, Probe } from './source.js';
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
