import { useEffect, useState } from 'react';
import type { JobEvent, StatusCodeInfo } from '../../main/api/types.js';
import type { Api } from './api/client.js';
import { errorMessage } from './api/client.js';
import { frameBatch } from './api/frame-batch.js';
import { applyJobEvents, compactJobs, fromSummary, type JobMap } from './api/jobs.js';

export interface JobsView {
  readonly jobs: JobMap;
  /** When the first job of this page's session was seen (for units per hour). */
  readonly firstStartMs: number | null;
  /** Bumped on every job end, so history can refresh. */
  readonly ended: number;
  readonly error: string | null;
}

/** Live jobs: subscribe first, then merge a `jobs.list` snapshot each time the subscription (re)starts. */
export function useJobs(api: Api): JobsView {
  const [view, setView] = useState<JobsView>({ jobs: new Map(), firstStartMs: null, ended: 0, error: null });
  useEffect(() => {
    let live = true;
    // One state update (and render) per frame for all the events that arrived since the last one.
    const batch = frameBatch<JobEvent>((events) =>
      setView((v) => {
        const ends = events.filter((e) => e.type === 'end').length;
        const jobs = applyJobEvents(v.jobs, events);
        return {
          ...v,
          jobs: ends > 0 ? compactJobs(jobs) : jobs,
          firstStartMs: v.firstStartMs ?? Date.now(),
          ended: v.ended + ends,
        };
      }),
    );
    const onEvent = (event: JobEvent) => batch.push(event);
    const sub = api.client.jobs.events.subscribe(undefined, {
      onStarted() {
        api.client.jobs.list
          .query()
          .then((list) => {
            if (!live) return;
            setView((v) => {
              const jobs = new Map(v.jobs);
              // Events already applied know more than the snapshot does.
              for (const s of list) if (!jobs.has(s.jobId)) jobs.set(s.jobId, fromSummary(s));
              return { ...v, jobs, firstStartMs: v.firstStartMs ?? (list.length > 0 ? Date.now() : null) };
            });
          })
          .catch((err: unknown) => live && setView((v) => ({ ...v, error: errorMessage(err) })));
      },
      onData: onEvent,
      onError(err) {
        if (live) setView((v) => ({ ...v, error: errorMessage(err) }));
      },
    });
    return () => {
      live = false;
      batch.cancel();
      sub.unsubscribe();
    };
  }, [api]);
  return view;
}

/** The status-code table, to show the remedy next to any code. */
export function useStatusCodes(api: Api): ReadonlyMap<number, StatusCodeInfo> {
  const [codes, setCodes] = useState<ReadonlyMap<number, StatusCodeInfo>>(new Map());
  useEffect(() => {
    let live = true;
    api.client.app.statusCodes
      .query()
      .then((list) => live && setCodes(new Map(list.map((c) => [c.code, c]))))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api]);
  return codes;
}
