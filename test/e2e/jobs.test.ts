import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { accessibilityFindings, screenshot } from './browser.js';
import type { ConsoleHost } from './console-host.js';
import { openConsole } from './console-session.js';
import type { AppPage } from './pages/app-page.js';
import { JobsPage } from './pages/jobs-page.js';

/**
 * Three local-mode jobs on the console's own local agent: replica 3 of `odd-one` writes another
 * output than the others; every replica of `split` prints its own number, so no two agree; in
 * `rough` replica 2 crashes and replica 3 runs past the timeout (quorum 1, replica 1 wins);
 * `slow-second` disagrees too, and its re-run takes 6 s: long enough to watch the first vote arrive.
 */
const CONFIG = `jobs:
  odd-one:
    command: /bin/sh
    args: ["-c", "if [ \\"$ARMORY_REPLICA\\" = 3 ]; then echo minority > out.txt; else echo majority > out.txt; fi; echo stdout of the majority; cat out.txt"]
    outputs: [out.txt]
    replicas: 3
    quorum: 2
    timeout: 10s
  split:
    command: /bin/sh
    args: ["-c", "echo replica $ARMORY_REPLICA"]
    replicas: 3
    quorum: 2
    retries: 1
    timeout: 10s
  slow-second:
    command: /bin/sh
    args: ["-c", "if [ $ARMORY_ATTEMPT = 2 ]; then sleep 6; fi; echo replica $ARMORY_REPLICA"]
    replicas: 3
    quorum: 2
    retries: 1
    timeout: 20s
  rough:
    command: /bin/sh
    args: ["-c", "case $ARMORY_REPLICA in 2) kill -SEGV $$;; 3) sleep 30;; *) echo fine;; esac"]
    replicas: 3
    quorum: 1
    retries: 0
    timeout: 2s
`;

let host: ConsoleHost;
let browser: Browser;
let page: Page;
let app: AppPage;
let jobs: JobsPage;
let errors: string[];

beforeAll(async () => {
  ({ host, browser, page, app, errors } = await openConsole(900));
  // A failed wait says what it waited for before the test's own timeout ends it.
  page.setDefaultTimeout(15_000);
  jobs = new JobsPage(app);
  await app.open();
  await app.by('overview-node-local').waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.dispose();
}, 60_000);

describe('redundant jobs in the console, on the local agent', () => {
  it('with no job configured, the screen says how to add one', async () => {
    await jobs.open();
    await jobs.by('jobs-empty').waitFor();
    await jobs.by('jobs-results-empty').waitFor();
    await screenshot(page, 'jobs-01-empty');
  });

  it('lists the jobs of a configuration applied in the Configuration screen', async () => {
    await app.go('config');
    await app.by('config-yaml').fill(CONFIG);
    await app.by('config-preview-button').click();
    await app.by('config-preview-ok').waitFor();
    await app.by('config-apply').click();
    await app.by('config-applied').waitFor({ timeout: 15_000 });
    expect(await app.by('config-applied').textContent()).toMatch(/local: ok/);
    await jobs.open();
    // On a miss, what the screen showed instead (an empty list, an error, still loading).
    await jobs
      .by('job-row-odd-one')
      .waitFor()
      .catch(async (e: unknown) => {
        throw new Error(`no row for odd-one; the Jobs screen says: ${(await jobs.by('view-jobs').textContent())?.slice(0, 600)}`, { cause: e });
      });
    expect(await jobs.by('job-row-odd-one').textContent()).toMatch(/3 local sandboxes.*2 of 3.*10\.0 s.*never run/);
    expect(await jobs.by('jobs-table').locator('tbody tr').count()).toBe(4);
  });

  it('a cancelled confirmation runs nothing', async () => {
    await jobs.run('odd-one', { accept: false });
    await jobs.by('jobs-live').getByText('None yet').waitFor();
    expect(await jobs.by('job-run-odd-one').isEnabled()).toBe(true);
  });

  it('runs a job from the GUI: the dissenting replica is named, the majority output is delivered and shown', async () => {
    await jobs.run('odd-one', { accept: true });
    expect(await jobs.waitEnded('odd-one')).toBe('finished');
    await jobs.waitDetail('odd-one');
    expect(await jobs.by('job-detail-outcome').textContent()).toBe('succeeded');
    expect(await jobs.by('job-detail-named').textContent()).toMatch(/Did not agree: replica 3 \(dissented: exit code 0; result \w+ differs from the majority's/);
    expect(await jobs.verdict(1, 1).textContent()).toBe('agreed');
    expect(await jobs.verdict(1, 2).textContent()).toBe('agreed');
    expect(await jobs.verdict(1, 3).textContent()).toBe('dissented');
    expect(await jobs.by('job-replica-1-3').getAttribute('data-verdict')).toBe('dissented');
    await waitFor('the majority output', async () => (await jobs.by('job-output-outputs/out.txt').textContent()) === 'majority\n');
    await waitFor('the majority stdout', async () => (await jobs.by('job-output-stdout').textContent()) === 'stdout of the majority\nmajority\n');
    // The kept result is the one the manager journaled and the agent delivered: the files are there.
    const delivered = ((await jobs.by('job-detail-delivered').locator('code').first().textContent()) ?? '').replace(/\/outputs\/out\.txt$/, '');
    expect(fs.readFileSync(path.join(delivered, 'outputs/out.txt'), 'utf8')).toBe('majority\n');
    const row = jobs.resultRows('odd-one').first();
    expect(await row.getAttribute('data-outcome')).toBe('succeeded');
    expect(await row.textContent()).toMatch(/dissented replica 3/);
    expect(await jobs.by('job-last-odd-one').textContent()).toBe('succeeded');
    await screenshot(page, 'jobs-02-dissenting-replica');
  });

  it('names a crashed and a timed-out replica', async () => {
    await jobs.run('rough', { accept: true });
    expect(await jobs.waitEnded('rough')).toBe('finished');
    await jobs.waitDetail('rough');
    expect(await jobs.verdict(1, 1).textContent()).toBe('agreed');
    expect(await jobs.verdict(1, 2).textContent()).toBe('crashed');
    expect(await jobs.verdict(1, 3).textContent()).toBe('timed out');
    expect(await jobs.by('job-detail-named').textContent()).toMatch(/replica 2 \(crashed: killed by SIGSEGV\), replica 3 \(timed out: still running after 2000 ms/);
  });

  it('a job with no majority is re-run, then fails loudly', async () => {
    await jobs.run('split', { accept: true });
    await waitFor('the Run button to wait for the running job', async () => !(await jobs.by('job-run-split').isEnabled()) || (await jobs.live('split').getAttribute('data-state')) !== 'running');
    expect(await jobs.waitEnded('split')).toBe('finished');
    expect(await jobs.by('job-live-summary-split').textContent()).toMatch(/^job split FAILED after 2 attempts: no majority/);
    await jobs.waitDetail('split');
    expect(await jobs.by('job-detail-outcome').textContent()).toBe('FAILED: no majority');
    expect(await jobs.by('job-detail-error').textContent()).toMatch(/failed loudly \[JOB_E_NO_MAJORITY\]/);
    expect(await jobs.by('job-detail-delivered').textContent()).toMatch(/Nothing was delivered/);
    expect(await jobs.by('job-attempt-1').count()).toBe(1);
    expect(await jobs.by('job-attempt-2').count()).toBe(1);
    for (const r of [1, 2, 3]) expect(await jobs.verdict(2, r).textContent()).toBe('no majority');
    expect(await jobs.resultRows('split').first().getAttribute('data-outcome')).toBe('no-majority');
    await screenshot(page, 'jobs-03-no-majority');
  });

  it('shows a running job live: the vote of each attempt arrives through the live feed before the result', async () => {
    await jobs.run('slow-second', { accept: true });
    await waitFor('the first vote, live', async () => (await jobs.live('slow-second').getAttribute('data-state')) === 'running' && /attempt 1: no majority/.test((await jobs.by('job-live-summary-slow-second').textContent()) ?? ''), { timeoutMs: 15_000 });
    expect(await jobs.live('slow-second').textContent()).toMatch(/running \(attempt 1 voted\)/);
    expect(await jobs.by('job-run-slow-second').isEnabled()).toBe(false);
    expect(await jobs.by('job-last-slow-second').textContent()).toBe('running');
    await screenshot(page, 'jobs-04-running');
    expect(await jobs.waitEnded('slow-second')).toBe('finished');
    expect(await jobs.by('job-live-summary-slow-second').textContent()).toMatch(/FAILED after 2 attempts/);
    await waitFor('the Run button back', () => jobs.by('job-run-slow-second').isEnabled());
  });

  it('is usable from the keyboard: a result opens with Enter and its panel takes the focus', async () => {
    const id = ((await jobs.resultRows('odd-one').first().getAttribute('data-testid')) ?? '').replace(/^job-result-/, '');
    await jobs.by(`job-result-open-${id}`).focus();
    await page.keyboard.press('Enter');
    await jobs.waitDetail('odd-one');
    await waitFor('the focus on the result', async () => (await page.evaluate('document.activeElement?.id')) === 'job-detail-title');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.tagName')).not.toBe('BODY');
    // Closing it gives the focus back to the button that opened it.
    await jobs.by('job-detail-close').focus();
    await page.keyboard.press('Enter');
    await jobs.by('job-detail').waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement?.dataset.testid')).toBe(`job-result-open-${id}`);
    // The same result by its address.
    await page.goto(`${host.url}#jobs/odd-one/${id}`);
    await jobs.waitDetail('odd-one');
    expect(await jobs.verdict(1, 3).textContent()).toBe('dissented');
    await screenshot(page, 'jobs-05-result-by-address');
  });

  it('raised no page errors and no CSP violations', () => {
    expect(errors).toEqual([]);
  });

  it('has no serious or critical axe-core violation on the Jobs screen', () => {
    expect(accessibilityFindings).toEqual([]);
  });
});
