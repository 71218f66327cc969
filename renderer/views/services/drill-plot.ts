import uPlot from 'uplot';
import type { DrillReport } from '../../../common/wire/drill.js';
import { h } from '../../components/dom.js';

/**
 * A drill's timeline, drawn with uPlot like the recovery plot: whether the probe of the service's
 * address connected (1) or failed (0) over ms from the fault, and the journal events as points
 * (detection and recovery marked in their own series).
 */
export function drillPlot(report: DrillReport): { el: HTMLElement; destroy(): void } {
  const el = h('figure', { class: 'plot', testid: 'drill-plot' });
  if (report.probes.length === 0) {
    el.append(h('figcaption', {}, 'No probe result was recorded.'));
    return { el, destroy: () => undefined };
  }
  // One x per span edge and per event; each series has a value only where it has something to say.
  const points = new Map<number, [number | null, number | null, number | null]>();
  const at = (x: number) => {
    let p = points.get(x);
    if (!p) points.set(x, (p = [null, null, null]));
    return p;
  };
  for (const s of report.probes) {
    at(s.fromMs)[0] = s.ok ? 1 : 0;
    at(s.toMs)[0] = s.ok ? 1 : 0;
  }
  for (const e of report.events) {
    if (e.role === 'other') at(e.atMs)[1] = 0.5;
    else at(e.atMs)[2] = e.role === 'detection' ? 0.25 : 0.75;
  }
  const xs = [...points.keys()].sort((a, b) => a - b);
  const col = (i: 0 | 1 | 2) => xs.map((x) => (points.get(x) as [number | null, number | null, number | null])[i]);
  el.append(
    h(
      'figcaption',
      {},
      `Probe of ${report.probe.target} every ${report.probe.everyMs} ms (1 = answered, 0 = failed) and journal events, in ms from the fault${report.budget ? `; failover budget ${report.budget.totalMs} ms` : ''}.`,
    ),
  );
  const plot = new uPlot(
    {
      width: 640,
      height: 220,
      series: [
        {},
        { label: 'probe answered', stroke: '#2563eb', spanGaps: true, paths: uPlot.paths.stepped?.({ align: 1 }), points: { show: false } },
        { label: 'event', stroke: 'transparent', points: { show: true, size: 6, fill: '#6b7280' } },
        { label: 'detection / recovery', stroke: 'transparent', points: { show: true, size: 9, fill: '#b45309' } },
      ],
      axes: [{ label: 'ms from the fault' }, { label: 'answered' }],
      scales: { x: { time: false }, y: { range: () => [-0.1, 1.1] } },
    },
    [xs, col(0), col(1), col(2)],
    el,
  );
  return { el, destroy: () => plot.destroy() };
}
