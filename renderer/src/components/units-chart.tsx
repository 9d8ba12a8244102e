import { useMemo } from 'react';
import type { RateSeries } from '../api/factory.js';
import { type ChartData, themeColor, UPlotChart, withAlpha } from './chart.js';

const TICK_SECONDS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

function clockTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Units per hour through the session, as a line; the counter beside it carries the number as text. */
export function UnitsChart({ series }: { readonly series: RateSeries }) {
  const data = useMemo<ChartData>(() => [series.times, series.values], [series]);
  return (
    <UPlotChart
      className="units-chart"
      testId="units-chart"
      data={data}
      options={(width) => {
        const text = themeColor('--muted', '#57606a');
        const grid = themeColor('--border', '#d0d7de');
        return {
          width,
          height: 140,
          padding: [8, 28, 0, 0],
          legend: { show: false },
          cursor: { show: false },
          select: { show: false, left: 0, top: 0, width: 0, height: 0 },
          scales: { y: { range: (_u, _min, max) => [0, Math.max(10, Math.ceil((max * 1.15) / 10) * 10)] } },
          axes: [
            {
              stroke: text,
              grid: { stroke: grid, width: 1 },
              ticks: { stroke: grid },
              // Whole seconds and minutes only, as a wall-clock time (uPlot's default adds dates and ms).
              incrs: TICK_SECONDS,
              space: 70,
              values: (_u, splits) => splits.map(clockTime),
            },
            { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 48 },
          ],
          series: [
            {},
            {
              label: 'Units / hour',
              stroke: themeColor('--ok', '#1a7f37'),
              fill: withAlpha(themeColor('--ok', '#1a7f37'), 0.15),
              width: 2,
              spanGaps: false,
              points: { show: false },
            },
          ],
        };
      }}
    />
  );
}
