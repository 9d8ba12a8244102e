/**
 * uPlot in React: a small, well-kept canvas chart library (≈50 KB, no dependencies) rather than our own
 * drawing code. The chart is created once per mount and fed new data with setData; it is decorative for
 * assistive technology (aria-hidden) — every chart sits beside the same numbers as text.
 */
import { useEffect, useRef } from 'react';
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

export function UPlotChart(props: {
  readonly options: (width: number) => uPlot.Options;
  readonly data: ChartData;
  readonly className: string;
  readonly testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const { options, data } = props;
  // biome-ignore lint/correctness/useExhaustiveDependencies: created once per mount; data flows in below
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot(options(Math.max(40, el.clientWidth)), data, el);
    chart.current = plot;
    return () => {
      plot.destroy();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);
  return <div ref={box} className={props.className} aria-hidden="true" data-testid={props.testId} />;
}
