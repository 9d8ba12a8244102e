/**
 * uPlot in React: a small, well-kept canvas chart library (≈50 KB, no dependencies) rather than our own
 * drawing code. The chart is created once per mount and fed new data with setData; it is decorative for
 * assistive technology (aria-hidden) — every chart sits beside the same numbers as text.
 */
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export type ChartData = uPlot.AlignedData;

/** A colour from the stylesheet's variables, so charts follow light and dark themes. */
export function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** `#rrggbb` with an alpha, for area fills under a line. */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return hex;
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => Number.parseInt(h ?? '0', 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** 'dark' or 'light', following the system setting live. */
function useColorScheme(): 'dark' | 'light' {
  const query = '(prefers-color-scheme: dark)';
  const [scheme, setScheme] = useState<'dark' | 'light'>(() =>
    matchMedia(query).matches ? 'dark' : 'light',
  );
  useEffect(() => {
    const media = matchMedia(query);
    const onChange = () => setScheme(media.matches ? 'dark' : 'light');
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, []);
  return scheme;
}

export function UPlotChart(props: {
  readonly options: (width: number) => uPlot.Options;
  readonly data: ChartData;
  readonly className: string;
  readonly testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const { options, data } = props;
  const scheme = useColorScheme();
  // Colours are read when the chart is made, so it is made again when the theme changes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: created per mount and theme; data flows in below
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot(options(Math.max(40, el.clientWidth)), data, el);
    chart.current = plot;
    return () => {
      plot.destroy();
      chart.current = null;
    };
  }, [scheme]);
  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);
  return <div ref={box} className={props.className} aria-hidden="true" data-testid={props.testId} />;
}

/**
 * Options of a time chart with a count on y starting at 0 (units/hour): themed axes and grid, no zoom.
 * `xLabel` writes the time axis' ticks; `incrs`, when given, limits its tick spacing (seconds).
 */
export function timeChartOptions(o: {
  readonly width: number;
  readonly height: number;
  readonly legend: boolean;
  readonly xLabel: (seconds: number) => string;
  readonly xSpace: number;
  readonly incrs?: number[];
  readonly series: uPlot.Series[];
}): uPlot.Options {
  const text = themeColor('--muted', '#57606a');
  const grid = themeColor('--border', '#d0d7de');
  return {
    width: o.width,
    height: o.height,
    padding: [8, 28, 0, 0],
    legend: { show: o.legend },
    cursor: o.legend ? { show: true, drag: { x: false, y: false } } : { show: false },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    scales: { y: { range: (_u, _min, max) => [0, Math.max(10, Math.ceil((max * 1.15) / 10) * 10)] } },
    axes: [
      {
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid },
        ...(o.incrs ? { incrs: o.incrs } : {}),
        space: o.xSpace,
        values: (_u, splits) => splits.map(o.xLabel),
      },
      { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 48 },
    ],
    series: [{}, ...o.series],
  };
}
