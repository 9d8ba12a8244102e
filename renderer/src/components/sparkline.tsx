import { useMemo } from 'react';
import type { RateSample } from '../api/jobs.js';
import { type ChartData, themeColor, UPlotChart, withAlpha } from './chart.js';

const WIDTH = 120;
const HEIGHT = 28;

/** Throughput over a job's life as a tiny line; the row states the average and peak in words. */
export function Sparkline({ samples }: { readonly samples: readonly RateSample[] }) {
  const data = useMemo<ChartData>(
    () => [samples.map((s) => s.t), samples.map((s) => s.rate / 1e6)],
    [samples],
  );
  return (
    <UPlotChart
      className="sparkline"
      testId="job-sparkline"
      data={data}
      options={() => ({
        width: WIDTH,
        height: HEIGHT,
        pxAlign: false,
        padding: [3, 1, 1, 1],
        legend: { show: false },
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(max, 0.001)] } },
        axes: [{ show: false }, { show: false }],
        series: [
          {},
          {
            stroke: themeColor('--accent', '#0b5cad'),
            fill: withAlpha(themeColor('--accent', '#0b5cad'), 0.18),
            width: 1.5,
            points: { show: false },
          },
        ],
      })}
    />
  );
}
