import { useMemo } from 'react';
import type { FleetStats, StatusCodeInfo } from '../../../main/api/types.js';
import type { ThroughputSeries } from '../api/fleet.js';
import { type ChartData, timeChartOptions, UPlotChart } from './chart.js';

/** Distinct line colours per station (colour-blind-safe Okabe–Ito order). */
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000'];

function clockTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** Units per hour per station over time; the station table and the code table carry the numbers as text. */
export function ThroughputChart({ series }: { readonly series: ThroughputSeries }) {
  const data = useMemo<ChartData>(() => [series.times, ...series.values], [series]);
  // The chart is made again when the set of stations changes (uPlot's series are fixed per instance).
  return (
    <UPlotChart
      key={series.stations.join('|')}
      className="units-chart fleet-chart"
      testId="fleet-throughput-chart"
      data={data}
      options={(width) =>
        timeChartOptions({
          width,
          height: 180,
          legend: true,
          xSpace: 90,
          xLabel: clockTime,
          series: series.stations.map((label, i) => ({
            label: `${label} units/h`,
            stroke: PALETTE[i % PALETTE.length] ?? '#0072b2',
            width: 2,
            points: { show: false },
          })),
        })
      }
    />
  );
}

/** Jobs by status code in the chosen window, most frequent first, each with its meaning. */
export function ByCodeTable({
  stats,
  codes,
}: {
  readonly stats: FleetStats;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
}) {
  const total = stats.byCode.reduce((n, c) => n + c.count, 0);
  if (total === 0) return <p className="muted">No jobs in this window.</p>;
  return (
    <table className="history fleet-codes" data-testid="fleet-by-code">
      <thead>
        <tr>
          <th scope="col">Code</th>
          <th scope="col">Meaning</th>
          <th scope="col" className="num">
            Jobs
          </th>
          <th scope="col" className="num">
            Share
          </th>
        </tr>
      </thead>
      <tbody>
        {stats.byCode.map((c) => (
          <tr key={c.status} className={c.status === 0 ? 'row-ok' : 'row-bad'} data-testid="fleet-code-row">
            <td className="tabular">
              <strong>{c.status}</strong>
            </td>
            <td>{c.status === 0 ? 'passed' : (codes.get(c.status)?.message ?? c.statusName)}</td>
            <td className="num">{c.count}</td>
            <td className="num">{`${Math.round((100 * c.count) / total)}%`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
