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
