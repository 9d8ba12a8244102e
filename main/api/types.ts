/**
 * Types the API's clients (renderer, station scripts, tests) may import. Type-only re-exports, so a
 * client pulls in no server code.
 */
export type { ErrorData } from '../common/errors.js';
export type { StatusCodeInfo } from '../common/status-codes.js';
export type { Connection, DeviceEvent, DeviceInfo, DeviceMode, DeviceState } from '../devices/device-info.js';
export type { JobEvent } from '../flash/events.js';
export type { JobSummary } from '../flash/manager.js';
export type { JobReport } from '../flash/report.js';
export type { RescueProgress, RescueReport, RescueStage } from '../flash/rescue/contract.js';
export type { Stage } from '../flash/stages.js';
export type {
  CodeCount,
  FleetJob,
  FleetStation,
  FleetStats,
  JobFilter,
  OtaAttempt,
  RolloutPackage,
} from '../fleet/contract.js';
export type { LiveDevice, LiveSnapshot, LiveStation } from '../fleet/live/index.js';
export type { OtaLiveSnapshot } from '../fleet/ota-ingest.js';
export type { CatalogDownload } from '../repo/catalog.js';
export type { Catalog, CatalogEntry } from '../repo/sync.js';
export type { FleetOverview, FleetRollout } from './fleet-router.js';
export type {
  IpcBridge,
  IpcClientMessage,
  IpcServerMessage,
  ReportExportRequest,
  SaveExportResult,
} from './ipc-protocol.js';
export type { PackageView, SignerView } from './package-view.js';
export type { RescueEvent, RescueJobView, RescuePackageSeen } from './rescue-jobs.js';
export type { AppRouter } from './router.js';
