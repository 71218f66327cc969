import { z } from 'zod';
import { duration } from './units.js';

const probeTiming = {
  interval: duration({ min: 10, max: 3_600_000 }).prefault('1s').describe('How often the probe runs.'),
  timeout: duration({ min: 10, max: 600_000 }).prefault('1s').describe('A probe that has not answered by then counts as failed.'),
  failures: z.number().int().min(1).max(100).default(3).describe('Failures in a row that make the program count as hung.'),
  grace: duration().prefault('0s').describe('Start-up grace: failures in this time after a start do not count.'),
};

/** A host:port as probes and shims write it, split (a bracketed IPv6 host loses its brackets). */
export function splitHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}

/** Whether an HTTP status is in a range as an HTTP probe's `status` writes it: `200` or `200-399`. */
export function statusInRange(status: number, range: string): boolean {
  const [lo, hi] = range.split('-').map(Number);
  return status >= (lo as number) && status <= (hi ?? lo ?? 0);
}

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'write host:port, like 127.0.0.1:6379')
  .refine((s) => {
    const { port } = splitHostPort(s);
    return port >= 1 && port <= 65535;
  }, 'the port must be 1-65535');

/** The most a TCP probe sends, and the longest text it waits for. */
export const MAX_PROBE_TEXT = 4096;

export const tcpProbeSchema = z
  .strictObject({
    tcp: hostPort.describe('Address the probe connects to (host:port); success is an accepted connection (and, with expect, the text in its answer).'),
    send: z
      .string()
      .min(1, 'give the text to send, or leave send out')
      .max(MAX_PROBE_TEXT)
      .optional()
      .describe('Text written once connected, like "PING\\r\\n" (double quotes in YAML take \\r\\n); needs expect.'),
    expect: z
      .string()
      .min(1, 'give the text the answer must contain, or leave expect out')
      .max(MAX_PROBE_TEXT)
      .optional()
      .describe('Text the answer must contain within the timeout, like "+PONG" (the first 64 KB are searched); without send, what the program says first (a banner). A program that accepts connections but does not answer (hung) fails.'),
    ...probeTiming,
  })
  .refine((p) => p.send === undefined || p.expect !== undefined, { message: 'a tcp probe that sends needs expect: the text its answer must contain', path: ['expect'] })
  .describe('TCP probe: a connection, or a request and the text its answer must contain.');

export const httpProbeSchema = z
  .strictObject({
    http: z.url({ protocol: /^https?$/, error: 'write an http:// or https:// URL' }).describe('URL the probe requests with GET.'),
    status: z
      .string()
      .regex(/^[1-5]\d\d(-[1-5]\d\d)?$/, 'write a status or a range, like 200 or 200-399')
      .default('200-399')
      .describe('Status code or range that counts as healthy.'),
    body: z.string().max(4096).optional().describe('Text the response body must contain (optional).'),
    ...probeTiming,
  })
  .describe('HTTP probe.');

export const execProbeSchema = z
  .strictObject({
    exec: z.array(z.string()).min(1, 'give the command and its arguments').describe('Command run by the probe; exit code 0 is healthy.'),
    ...probeTiming,
  })
  .describe('Command probe.');

export const probeSchema = z.union([tcpProbeSchema, httpProbeSchema, execProbeSchema], {
  error: 'a probe has exactly one of tcp, http or exec',
});
export type ProbeConfig = z.output<typeof probeSchema>;
