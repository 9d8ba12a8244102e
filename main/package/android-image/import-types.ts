/** The options, plan and result of `flashline pack --from-android-image` (import.ts, plan.ts). */
import type { SuperMetadata } from '../../protocol/fastboot/super/index.js';
import type { SigningPrivateKey, StationPublicKey } from '../keys.js';
import type { ImageKind } from '../manifest.js';
import type { PackResult } from '../writer.js';

export interface AndroidImportOptions {
  readonly input: string;
  readonly outPath: string;
  readonly keys: readonly SigningPrivateKey[];
  readonly encryptTo?: readonly StationPublicKey[];
  /** Picks one product of several in android-info.txt, or names it when there is none. */
  readonly product?: string;
  /** Default: the boot image's os_version. */
  readonly version?: string;
  /** Default: the boot image's os_version, else `version`. */
  readonly expectedVersion?: string;
  /** Default: the boot image's security patch level as YYYYMM (monotonic across monthly releases), else 0. */
  readonly rollbackIndex?: number;
  readonly created?: Date;
  readonly expires?: Date;
  readonly blockSize?: number;
  readonly signal?: AbortSignal;
}

export interface PlannedImage {
  readonly file: string;
  readonly partition: string;
  readonly kind: ImageKind;
  readonly slotted: boolean;
  readonly sparse: boolean;
  /** Stored size (the sparse file's size for a sparse image). */
  readonly size: number;
  /** Size once written (a sparse image's expanded size). */
  readonly expandedSize: number;
}

export interface AndroidImportPlan {
  readonly source: string;
  readonly products: readonly string[];
  readonly deviceRequirements: Record<string, string[]>;
  readonly version: string;
  readonly expectedVersion: string;
  readonly rollbackIndex: number;
  readonly images: readonly PlannedImage[];
  readonly superLayout?: SuperMetadata;
  /** Everything read but not carried into the package, one sentence each. */
  readonly notes: readonly string[];
}

export interface AndroidImportResult {
  readonly plan: AndroidImportPlan;
  readonly pack: PackResult;
}
