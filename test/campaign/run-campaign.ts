import fs from 'node:fs';
import path from 'node:path';
import { groupDeadlines, type GroupDeadlines } from '../../agent/peers/deadlines.js';
import { parseDuration } from '../../common/config/units.js';
import { sleep } from '../helpers/wait.js';
import { MEMBERS, TUNING, type CampaignBed, type FaultRecord } from './campaign-bed.js';
import { campaignHtml, campaignSvg } from './campaign-plot.js';
import { campaignReport, type CampaignInput, type CampaignReport, type JournalEvent } from './campaign-report.js';
import { faultPlan, type FaultKind } from './fault-plan.js';

export interface CampaignOptions {
  seed: number;
  faults: number;
  kinds?: readonly FaultKind[];
  /** One fault every this many ms (from the start of the campaign); 0: the next as soon as the last settled plus `gapMs`. */
  everyMs?: number;
  gapMs?: number;
  /** Quiet time before the first fault and after the last. */
  leadInMs?: number;
  /** Folder that receives NAME.json, NAME.svg and NAME.html. */
  outDir: string;
  name?: string;
  log?: (line: string) => void;
}

export interface CampaignResult {
  report: CampaignReport;
  settings: CampaignSettings;
  files: { json: string; svg: string; html: string };
}

export interface CampaignSettings {
  tuning: typeof TUNING;
  /** The group's deadlines as the agents derive them (heartbeat, takeover, lease, step-down margin). */
  deadlines: GroupDeadlines;
  /** The whole configuration applied. */
  configuration: string;
}

/** The settings the figures were measured with. */
export function campaignSettings(bed: CampaignBed): CampaignSettings {
  const ms = (d: string) => Number(/^(\d+)ms$/.exec(d)?.[1] ?? NaN);
  return { tuning: TUNING, deadlines: groupDeadlines(ms(TUNING.group.heartbeat), ms(TUNING.group.failAfter)), configuration: bed.config() };
}

/** Runs a seeded sequence of faults against a set-up CampaignBed and writes the report. */
export async function runCampaign(bed: CampaignBed, options: CampaignOptions): Promise<CampaignResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const manager = bed.manager;
  const writer = bed.writer;
  if (!manager || !writer) throw new Error('the bed is not set up');
  const plan = faultPlan(options.seed, options.faults, options.kinds);
  const leadIn = options.leadInMs ?? 2000;
  log(`campaign seed ${options.seed} (set CAMPAIGN_SEED / BENCH_SEED to repeat it): ${plan.join(', ')}`);
  const from = Date.now();
  await sleep(leadIn);
  const faults: FaultRecord[] = [];
  for (const [i, kind] of plan.entries()) {
    if (options.everyMs) {
      const due = from + leadIn + i * options.everyMs;
      // Bounded: at most one period.
      await sleep(Math.min(options.everyMs, Math.max(0, due - Date.now())));
    } else if (i > 0) await sleep(options.gapMs ?? 1000);
    const f = await bed.inject(kind);
    faults.push(f);
    log(`fault ${i + 1}/${plan.length}: ${kind} on ${f.node} → ${f.recovered ? `settled after ${f.settledAt - f.injectAt} ms on ${f.after}` : 'NOT settled'}${f.notes.length ? ` (${f.notes.join('; ')})` : ''}`);
  }
  // Paced: the last fault gets its whole period too; then the lead-out.
  if (options.everyMs) await sleep(Math.min(options.everyMs, Math.max(0, from + leadIn + plan.length * options.everyMs - Date.now())));
  await sleep(leadIn);
  const until = Date.now();
  await writer.stop();

  const events: JournalEvent[] = [];
  // The client host's journal too (its shim end), for the reader; detection looks at the members only.
  for (const h of [...MEMBERS, 'client']) {
    try {
      await manager.collectEvents(h);
    } catch (e) {
      log(`events of ${h} not collected: ${(e as Error).message}`);
    }
    for (const e of manager.readEvents({ node: h, from: new Date(from).toISOString() })) events.push({ node: h, time: e.time, kind: e.kind, service: e.service, from: e.from, to: e.to, reason: e.reason });
  }
  const acked = writer.acked();
  const back = await bed.readBack([...acked.keys()]);
  const origin = performance.timeOrigin;
  const input: CampaignInput = {
    seed: options.seed,
    from,
    until,
    faults,
    ops: writer.ops,
    vip: bed.sampler.samples.map((s) => ({ t: origin + s.t, holders: s.holders })),
    answering: bed.answers.samples,
    events,
    stopGraceMs: parseDuration(TUNING.stopGrace) ?? 1000,
    acked,
    readBack: back.values,
    readBackFrom: back.node,
  };
  const report = campaignReport(input);
  const name = options.name ?? 'campaign';
  fs.mkdirSync(options.outDir, { recursive: true });
  const files = { json: path.join(options.outDir, `${name}.json`), svg: path.join(options.outDir, `${name}.svg`), html: path.join(options.outDir, `${name}.html`) };
  const svg = campaignSvg(input, report, MEMBERS);
  const settings = campaignSettings(bed);
  fs.writeFileSync(files.json, `${JSON.stringify({ ...report, settings, events }, null, 2)}\n`);
  fs.writeFileSync(files.svg, svg);
  fs.writeFileSync(files.html, campaignHtml(svg, report));
  log(`availability ${report.availability}, ${report.writes.lost}/${report.writes.acknowledged} acknowledged writes lost, ${report.doubleActive.vipSamples} two-VIP samples, ${report.doubleActive.answeringSamples} two-redis samples; report ${files.html}`);
  return { report, settings, files };
}
