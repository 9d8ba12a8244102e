/**
 * The transport's test doubles, for tests and test harnesses only: a fake WebUSB backend and device (see
 * fake-webusb.ts). Deliberately not exported by ./index.ts, and dependency-cruiser's `product-no-test-fakes`
 * rule keeps product code from importing it.
 */
export { type FakePullKind, FakeUsbDevice, type FakeUsbDeviceOptions, FakeWebUsb } from './fake-webusb.js';
