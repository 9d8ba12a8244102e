/**
 * main/transport public surface: the Transport contract, its backends and typed errors. Test doubles live
 * in ./testing.ts, not here.
 */
export type { IoOptions } from './deadline.js';
export { DEFAULT_IO_TIMEOUT_MS, withDeadline } from './deadline.js';
export {
  AbortedError,
  DisconnectedError,
  OpenError,
  TimeoutError,
  TRANSPORT_ERROR_CODES,
  TransportUnavailableError,
} from './errors.js';
export { FRAMED_HANDSHAKE, framedPacketLink, handshake } from './framed.js';
export { createDuplexPair, memoryLink } from './memory.js';
export {
  ADB_TCP_PORT,
  type DeviceAddress,
  EDL_TCP_PORT,
  findUsbDevice,
  type OpenLinkOptions,
  openLink,
  parseDeviceId,
} from './open.js';
export { openStreamLink } from './open-stream.js';
export {
  listSerialPorts,
  nodeSerialBackend,
  openSerial,
  openSerialStream,
  type SerialBackend,
  type SerialLineSettings,
  type SerialListing,
  type SerialOptions,
  type SerialPortEntry,
} from './serial.js';
export { streamLink } from './stream-link.js';
export { FASTBOOT_TCP_PORT, openTcp, openTcpStream, type TcpOptions } from './tcp.js';
export type { ByteProgress, Link, LinkBase, PacketLink, StreamLink, Transport } from './types.js';
export {
  classifyUsbDevice,
  describeUsbDevice,
  FASTBOOT_USB_CLASS,
  type FastbootUsbInterface,
  findBulkInterface,
  findFastbootInterface,
  loadNodeUsbBackend,
  openUsb,
  openUsbInterface,
  type UsbDeviceWatch,
  type UsbInterfaceClass,
  type UsbInterfaceSpec,
  type UsbLinkOptions,
  watchUsbDevices,
} from './usb.js';
export { ADB_USB_CLASS, findAdbInterface, openUsbAdb } from './usb-adb.js';
export { EDL_USB_CLASSES, findEdlInterface, openUsbEdl } from './usb-edl.js';
export { loadUsbIds, lookupUsbId, parseUsbIds, USB_MODES, type UsbIdEntry, type UsbMode } from './usb-ids.js';
export type * from './usb-types.js';
