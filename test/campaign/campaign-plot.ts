import type { CampaignInput, CampaignReport } from './campaign-report.js';

const WIDTH = 1200;
const LEFT = 150;
const ROW = 18;
const COLORS: Record<string, string> = { h1: '#1f77b4', h2: '#ff7f0e', h3: '#2ca02c' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The campaign's timeline as an SVG: one column per time slice; rows for the client (green: every
 * command in the slice succeeded, red: one failed), for each host holding the VIP and each host's
 * redis answering; a line per fault, a tick per lost acknowledged write.
 */
export function campaignSvg(input: CampaignInput, report: CampaignReport, hosts: readonly string[]): string {
  const span = Math.max(1, input.until - input.from);
  const cols = WIDTH - LEFT - 10;
  const x = (t: number) => LEFT + ((t - input.from) / span) * cols;
  const slice = span / cols;
  const rows = ['client', ...hosts.map((h) => `VIP on ${h}`), ...hosts.map((h) => `redis answers on ${h}`)];
  const top = 40;
  const height = top + rows.length * ROW + 64;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="4" y="14" font-size="13">Availability campaign, seed ${report.seed}: availability ${report.availability}, ${report.faults} faults, ${report.writes.lost} of ${report.writes.acknowledged} acknowledged writes lost, ${report.doubleActive.vipSamples + report.doubleActive.answeringSamples} double-active samples</text>`);
  rows.forEach((r, i) => parts.push(`<text x="4" y="${top + i * ROW + 12}">${esc(r)}</text>`));

  // Client row: per slice, red when a command failed, green when all succeeded.
  const bins = new Array<number>(cols).fill(0);
  for (const o of input.ops) {
    if (o.start < input.from || o.start >= input.until) continue;
    const a = Math.floor((o.start - input.from) / slice);
    const b = Math.min(cols - 1, Math.floor((Math.min(o.end, input.until) - input.from) / slice));
    for (let c = a; c <= b; c += 1) bins[c] = Math.max(bins[c] as number, o.result === 'fail' ? 2 : 1);
  }
  bins.forEach((v, c) => {
    if (v) parts.push(`<rect x="${LEFT + c}" y="${top}" width="1" height="${ROW - 4}" fill="${v === 2 ? '#d62728' : '#2ca02c'}"/>`);
  });

  const sampleRows = (samples: { t: number; hosts: string[] }[], offset: number) => {
    hosts.forEach((h, i) => {
      let runFrom: number | null = null;
      let last = 0;
      const y = top + (offset + i) * ROW;
      const flush = () => {
        if (runFrom !== null) parts.push(`<rect x="${x(runFrom).toFixed(1)}" y="${y}" width="${Math.max(1, x(last) - x(runFrom)).toFixed(1)}" height="${ROW - 4}" fill="${COLORS[h] ?? '#777'}"/>`);
        runFrom = null;
      };
      for (const s of samples) {
        if (s.t < input.from || s.t > input.until) continue;
        if (s.hosts.includes(h)) {
          runFrom ??= s.t;
          last = s.t;
        } else flush();
      }
      flush();
    });
  };
  sampleRows(input.vip.map((s) => ({ t: s.t, hosts: s.holders })), 1);
  sampleRows(input.answering.map((s) => ({ t: s.t, hosts: s.answering })), 1 + hosts.length);

  const bottom = top + rows.length * ROW;
  report.perFault.forEach((f, i) => {
    const fx = x(Date.parse(f.injectAt)).toFixed(1);
    parts.push(`<line x1="${fx}" y1="${top - 6}" x2="${fx}" y2="${bottom}" stroke="#000" stroke-dasharray="3,2"/>`);
    parts.push(`<text x="${fx}" y="${top - 8 - (i % 2) * 10}" font-size="10">${esc(`${f.kind}@${f.node}`)}</text>`);
  });
  for (const m of report.failovers.filter((x) => x.fault === null)) {
    const mx = x(Date.parse(m.at)).toFixed(1);
    parts.push(`<line x1="${mx}" y1="${top - 6}" x2="${mx}" y2="${bottom}" stroke="#d62728" stroke-dasharray="2,2"/>`);
    parts.push(`<text x="${mx}" y="${bottom + 28}" font-size="9" fill="#d62728">${esc(`failover, no fault (→ ${m.to})`)}</text>`);
  }
  for (const l of report.lost) {
    const lx = x(Date.parse(l.ackedAt)).toFixed(1);
    parts.push(`<line x1="${lx}" y1="${top}" x2="${lx}" y2="${top + ROW - 4}" stroke="#000" stroke-width="1"/>`);
  }
  const stepS = Math.max(1, Math.ceil(span / 1000 / 12 / 5) * 5);
  for (let s = 0; s * 1000 <= span; s += stepS) {
    const tx = x(input.from + s * 1000).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${bottom}" x2="${tx}" y2="${bottom + 4}" stroke="#000"/><text x="${tx}" y="${bottom + 16}" text-anchor="middle">${s} s</text>`);
  }
  parts.push(`<text x="4" y="${bottom + 48}" font-size="10">client row: green = replies, red = failed commands, black ticks = acknowledged writes later found lost; black dashed lines = faults; red dashed lines = failovers with no fault injected</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** An HTML page: the timeline and the per-fault table. */
export function campaignHtml(svg: string, report: CampaignReport): string {
  const rows = report.perFault
    .map((f, i) => `<tr><td>${i + 1}</td><td>${esc(f.kind)}</td><td>${esc(f.node)}</td><td>${f.detectMs ?? '—'}</td><td>${f.recoveryMs}</td><td>${f.outageMs}</td><td>${f.longestCommandMs}</td><td>${esc(f.movedTo ?? '')}</td><td>${f.lostWrites}</td><td>${f.settled ? 'yes' : 'NO'}</td><td>${esc([f.detectedBy ?? '', ...f.notes, ...(f.failedWhy.length > 0 ? [`failed commands got: ${f.failedWhy.join(', ')}`] : [])].join('; '))}</td></tr>`)
    .join('\n');
  return `<!doctype html><meta charset="utf-8"><title>Armory availability campaign</title>
<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:left}</style>
<h1>Availability campaign (seed ${report.seed})</h1>
<p>Availability ${report.availability} over ${report.seconds} s (${report.downtimeMs} ms of failed client commands); ${report.writes.lost} of ${report.writes.acknowledged} acknowledged writes lost;
${report.doubleActive.vipSamples} samples with two VIP holders, ${report.doubleActive.answeringSamples} with two redis instances answering${report.doubleActive.intervals.length ? ` (${report.doubleActive.intervals.map((i) => `${i.what} ${i.hosts.join('+')} at ${i.from} for ${i.ms} ms: ${i.during ?? 'no hand-over explains it'}`).map(esc).join('; ')})` : ''};
${report.failovers.filter((m) => m.fault === null).length} failovers with no fault injected.</p>
${svg}
<table><tr><th>#</th><th>fault</th><th>node</th><th>detect ms</th><th>recovery ms</th><th>outage ms</th><th>longest command ms</th><th>moved to</th><th>writes lost</th><th>settled</th><th>first journal event; notes</th></tr>
${rows}
</table>
`;
}
