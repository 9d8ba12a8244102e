/** What a composition root gives the API of the fleet (both parts optional); kept apart to avoid a cycle. */
import type { FleetQueries } from '../fleet/contract.js';
import type { LiveView } from '../fleet/live/index.js';

export interface FleetContext {
  /** The dashboard subscriber (stations online/offline, devices per station). */
  readonly live?: LiveView;
  /** The central history. */
  readonly queries?: FleetQueries;
}
