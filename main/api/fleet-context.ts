/** What a composition root gives the API of the fleet (every part optional); kept apart to avoid a cycle. */
import type { FleetQueries, RolloutQueries } from '../fleet/contract.js';
import type { LiveView } from '../fleet/live/index.js';
import type { OtaLiveView } from '../fleet/ota-ingest.js';

export interface FleetContext {
  /** The dashboard subscriber (stations online/offline, devices per station). */
  readonly live?: LiveView;
  /** The central history. */
  readonly queries?: FleetQueries;
  /** Devices updating over the air, as their reports arrive on the bus (the rollout view's live part). */
  readonly ota?: OtaLiveView;
  /** The rollout per package from the central history. */
  readonly rollout?: RolloutQueries;
}
