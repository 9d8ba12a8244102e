import { useEffect, useState } from 'react';
import type { Api } from './api/client.js';
import { errorMessage } from './api/client.js';
import { applyRescueEvent, type RescueJobs } from './api/rescue.js';

/** Live rescue jobs: subscribe first, then merge a `rescue.list` snapshot each time the subscription starts. */
export function useRescueJobs(api: Api): { jobs: RescueJobs; error: string | null } {
  const [jobs, setJobs] = useState<RescueJobs>(new Map());
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const sub = api.client.rescue.events.subscribe(undefined, {
      onStarted() {
        api.client.rescue.list
          .query()
          .then((list) => {
            if (!live) return;
            setJobs((before) => {
              const next = new Map(before);
              // Events already applied know more than the snapshot does.
              for (const j of list) if (!next.has(j.jobId)) next.set(j.jobId, j);
              return next;
            });
          })
          .catch((err: unknown) => live && setError(errorMessage(err)));
      },
      onData: (event) => setJobs((before) => applyRescueEvent(before, event)),
      onError(err) {
        if (live) setError(errorMessage(err));
      },
    });
    return () => {
      live = false;
      sub.unsubscribe();
    };
  }, [api]);
  return { jobs, error };
}
