export type { LiveDashboard, LiveDevice, LiveSnapshot, LiveStation, LiveView } from './dashboard.js';
export { startLiveDashboard } from './dashboard.js';
export { type EmbeddedBroker, startEmbeddedBroker } from './embedded-broker.js';
export type { DeviceStatePayload, ProgressPayload, ResultPayload, StationStatus } from './payloads.js';
export { type LivePublisher, type LiveSources, startLivePublisher } from './publisher.js';
export { NAME_PATTERN, type StationAddress } from './topics.js';
