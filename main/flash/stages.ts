/** The explicit per-job state list (RAUC/Mender style). */
export const STAGES = ['preflight', 'download', 'verify', 'install', 'switch', 'postcheck'] as const;
export type Stage = (typeof STAGES)[number];

export const JOB_STATES = [...STAGES, 'done', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export function stageIndex(stage: Stage): number {
  return STAGES.indexOf(stage);
}
