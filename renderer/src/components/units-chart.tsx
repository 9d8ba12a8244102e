import { useMemo } from 'react';
import type { RateSeries } from '../api/factory.js';
import { type ChartData, themeColor, timeChartOptions, UPlotChart, withAlpha } from './chart.js';

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
      options={(width) =>
        timeChartOptions({
          width,
          height: 140,
          legend: false,
          // Whole seconds and minutes only, as a wall-clock time (uPlot's default adds dates and ms).
          incrs: TICK_SECONDS,
          xSpace: 70,
          xLabel: clockTime,
          series: [
            {
              label: 'Units / hour',
              stroke: themeColor('--ok', '#1a7f37'),
              fill: withAlpha(themeColor('--ok', '#1a7f37'), 0.15),
              width: 2,
              spanGaps: false,
              points: { show: false },
            },
          ],
        })
      }
    />
  );
}
