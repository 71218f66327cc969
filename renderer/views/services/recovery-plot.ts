import uPlot from 'uplot';
import type { RecoveryView } from '../../../common/bridge/services.js';
import { h } from '../../components/dom.js';

/** Restarts over time and how long each took to run again (seconds), drawn with uPlot. */
export function recoveryPlot(recoveries: readonly RecoveryView[]): { el: HTMLElement; destroy(): void } {
  const el = h('figure', { class: 'plot', testid: 'recovery-plot' });
  const done = recoveries.filter((r) => r.recoveryMs !== null);
  if (done.length === 0) {
    el.append(h('figcaption', {}, 'No restart recorded yet: each recovery will be plotted here with the time it took.'));
    return { el, destroy: () => undefined };
  }
  const xs = done.map((r) => Date.parse(r.time) / 1000);
  const ys = done.map((r) => (r.recoveryMs as number) / 1000);
  el.append(h('figcaption', {}, `Recovery time of the last ${done.length} restart${done.length === 1 ? '' : 's'} (seconds until running again).`));
  const plot = new uPlot(
    {
      width: 640,
      height: 220,
      series: [{}, { label: 'recovery (s)', stroke: '#b45309', points: { show: true, size: 6 } }],
      axes: [{}, { label: 's' }],
      // A single restart would otherwise stretch the time axis over years.
      scales: { x: { time: true, range: (_u, min, max) => (max - min < 600 ? [min - 300, max + 300] : [min, max]) }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.2)] } },
    },
    [xs, ys],
    el,
  );
  return { el, destroy: () => plot.destroy() };
}
