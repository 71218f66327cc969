import type { DrillFault, DrillReport } from '../../../common/wire/drill.js';
import { button, clear, fmtTime, h, uid } from '../../components/dom.js';
import { errorText, type ViewContext } from '../../view.js';
import { drillPlot } from './drill-plot.js';

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);
/** The GUI's longest fault (s): DRILL_BRIDGE_MAX_DURATION_MS of common/bridge/drill.ts (the bridge refuses longer). */
const MAX_SECONDS = 60;
const VERDICT_TEXT: Record<DrillReport['verdict'], string> = {
  'within-budget': 'within the failover budget',
  'over-budget': 'OVER the failover budget',
  'not-recovered': 'NOT recovered',
  'no-budget': 'no failover budget (the service is in no group)',
};

/**
 * The failover drill of one service: pick a fault, confirm, watch its progress, read the report
 * with its timeline plot; a refusal (no ready standby) is shown with a way to force the drill.
 */
export function drillPanel(ctx: ViewContext, service: string): { el: HTMLElement; dispose(): void } {
  const faultId = uid('drill-fault');
  const durationId = uid('drill-duration');
  const help = new Map<string, string>();
  const fault = h('select', { id: faultId, testid: 'drill-fault' }, h('option', { value: 'kill' }, 'kill'));
  void ctx.bridge.drill.faults().then(
    (list) => {
      for (const f of list) help.set(f.fault, f.help);
      const was = fault.value;
      clear(fault, list.map((f) => h('option', { value: f.fault }, `${f.fault} — ${f.help}`)));
      fault.value = was;
    },
    (e: unknown) => ctx.reportError(e),
  );
  const duration = h('input', { id: durationId, testid: 'drill-duration', type: 'number', min: '1', max: String(MAX_SECONDS), value: '5', inputmode: 'numeric' });
  const confirmBox = h('div', { testid: 'drill-confirm-box', role: 'group', 'aria-label': 'Confirm the drill' });
  const status = h('p', { role: 'status', class: 'note', testid: 'drill-progress' });
  const reportBox = h('div', { testid: 'drill-report-box' });
  const history = h('ul', { testid: 'drill-history', class: 'drill-history' });
  let plot: { destroy(): void } | null = null;
  let running = false;

  const showReport = (r: DrillReport) => {
    plot?.destroy();
    const p = drillPlot(r);
    plot = p;
    clear(
      reportBox,
      h(
        'article',
        { testid: 'drill-report', class: 'drill-report', 'data-verdict': r.verdict },
        h('h3', {}, `Drill ${r.fault} on ${r.service} · ${fmtTime(r.faultAt)}`),
        h('p', { testid: 'drill-summary' }, r.summary),
        h(
          'table',
          { class: 'grid' },
          h(
            'tbody',
            {},
            [
              ['Node', `${r.nodeBefore} → ${r.nodeAfter ?? 'not recovered'}`],
              ['Detection', ms(r.detectionMs)],
              ['Recovery', ms(r.recoveryMs)],
              ['Client outage', `${ms(r.outageMs)} (${r.failedProbes} of ${r.totalProbes} probes failed)`],
              ['Failover budget', r.budget ? `${r.budget.totalMs} ms (detection ${r.budget.detectMs} + start ${r.budget.startMs} + ARP ${r.budget.arpMs})` : 'none'],
              ['Verdict', VERDICT_TEXT[r.verdict]],
            ].map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', { testid: `drill-${(k as string).toLowerCase().replace(/\s+/g, '-')}` }, v))),
          ),
        ),
        r.notes.length > 0 ? h('ul', {}, r.notes.map((n) => h('li', {}, n))) : null,
        p.el,
      ),
    );
  };

  const loadHistory = async () => {
    try {
      const list = await ctx.bridge.drill.list({ service, limit: 10 });
      clear(
        history,
        list.length === 0
          ? h('li', { class: 'empty' }, 'No drill has been run on this service yet.')
          : list.map((d) =>
              h(
                'li',
                {},
                button(`Show the ${d.fault} drill of ${fmtTime(d.faultAt)} (${d.verdict})`, `drill-history-${d.id}`, () => void ctx.bridge.drill.get({ id: d.id }).then(showReport, (e: unknown) => ctx.reportError(e))),
              ),
            ),
      );
    } catch (e) {
      clear(history, h('li', { class: 'error' }, errorText(e)));
    }
  };

  const run = async (force: boolean) => {
    if (running) return;
    running = true;
    clear(confirmBox);
    const f = fault.value as DrillFault;
    const seconds = Number(duration.value);
    status.textContent = `Starting the ${f} drill…`;
    try {
      const r = await ctx.bridge.drill.run({ service, fault: f, force, ...(Number.isFinite(seconds) && seconds >= 1 ? { durationMs: Math.round(Math.min(MAX_SECONDS, seconds) * 1000) } : {}) });
      status.textContent = `Done: ${r.summary}`;
      showReport(r);
      void loadHistory();
    } catch (e) {
      const code = (e as { code?: string }).code;
      status.textContent = '';
      if (code === 'DRILL_E_NO_STANDBY') {
        clear(
          confirmBox,
          h('p', { class: 'error', testid: 'drill-refusal', role: 'alert' }, `Refused: ${errorText(e)}`),
          button(`Run anyway (force): ${service} will be down until it recovers`, 'drill-force', () => void run(true)),
          button('Cancel', 'drill-cancel', () => clear(confirmBox)),
        );
      } else clear(confirmBox, h('p', { class: 'error', testid: 'drill-error', role: 'alert' }, errorText(e)));
    } finally {
      running = false;
    }
  };

  const ask = () => {
    const f = fault.value as DrillFault;
    clear(
      confirmBox,
      h('p', { testid: 'drill-question' }, `Inject "${f}"${help.has(f) ? ` (${help.get(f) as string})` : ''} on the node that runs ${service}? Its clients will see the outage the drill measures.`),
      button(`Inject ${f}`, 'drill-confirm', () => void run(false)),
      button('Cancel', 'drill-cancel', () => clear(confirmBox)),
    );
  };

  const sub = ctx.bridge.drill.onProgress((p) => {
    if (p.service !== service || p.phase === 'done') return;
    status.textContent = `${p.phase}: ${p.text} · ${p.elapsedMs >= 0 ? `${(p.elapsedMs / 1000).toFixed(1)} s after the fault · ` : ''}probes ${p.probesOk} answered, ${p.probesFailed} failed`;
  });
  void loadHistory();
  const el = h(
    'section',
    { class: 'drill', testid: 'drill-panel', 'aria-labelledby': `${faultId}-title` },
    h('h2', { id: `${faultId}-title` }, 'Failover drill'),
    h('p', { class: 'help' }, 'Injects a real fault where the service runs and measures how long detection, recovery and the clients\' outage take, against the failover budget.'),
    h('div', { class: 'toolbar' }, h('label', { for: faultId }, 'Fault '), fault, h('label', { for: durationId }, ' Duration (s) '), duration, button('Run drill…', 'drill-start', ask)),
    confirmBox,
    status,
    reportBox,
    h('h3', {}, 'Earlier drills'),
    history,
  );
  return {
    el,
    dispose: () => {
      sub.dispose();
      plot?.destroy();
    },
  };
}
