import { createHash, randomBytes } from 'node:crypto';
import { ArmoryError } from '../../../common/errors/armory-error.js';
import { isIP } from 'node:net';
import { describeCertificate } from '../pki/certificate-info.js';
import { issueCertificate } from '../pki/issue-certificate.js';
import type { EnrollContext } from './enroll-context.js';
import { makeDirScript, parseMadeDirs, removeEmptyDirsScript } from './remote-dirs.js';
import { shellQuote } from '../../../common/node/shell-quote.js';
import type { Step } from './step-runner.js';

/** A text file as it goes over stdin: LF line ends, ending in a newline, and the number of lines the reader takes. */
function asLines(text: string): { text: string; lines: number } {
  const t = text.replace(/\r\n/g, '\n').replace(/\n*$/, '\n');
  return { text: t, lines: t.split('\n').length - 1 };
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Run as root in one go, with the three PEM files and then their checksums on stdin (never on a
 * command line, where other users could read the key): writes them with their modes, checks them,
 * then swaps the folder in, keeping an earlier one aside.
 */
function writeAndSwapScript(staging: string, tlsDir: string, previous: string | null, files: readonly { name: string; lines: number; mode: string }[]): string {
  const q = shellQuote;
  return [
    `cd ${q(staging)} || exit 1`,
    'umask 077',
    'take() { i=0; while [ $i -lt "$1" ] && IFS= read -r l; do printf "%s\\n" "$l"; i=$((i+1)); done; }',
    ...files.map((f) => `take ${f.lines} > ${q(f.name)} && chmod ${f.mode} ${q(f.name)} || exit 1`),
    'if ! out=$(sha256sum -c --quiet --strict - 2>&1); then printf "%s\\n" "$out" >&2; exit 4; fi',
    'cd / || exit 1',
    `${previous ? `rm -rf ${q(previous)} && mv ${q(tlsDir)} ${q(previous)} && ` : ''}mv ${q(staging)} ${q(tlsDir)}`,
  ].join('\n');
}

/**
 * Issues the node's certificate from the cluster CA (agent role, the node's name, the address the
 * manager reaches it at) and writes STATE/tls/{ca.pem, node.pem 0644, node.key 0600} with the state
 * folder 0700. The files are written into a new folder that is then swapped in; an earlier tls
 * folder is kept aside for the undo. The private key never touches the manager's disk.
 */
export const certificateStep: Step<EnrollContext> = {
  name: 'certificate',
  async run(ctx) {
    const o = ctx.o;
    const rec = ctx.certificate;
    const shell = await ctx.conn.shell();
    const address = o.target.host;
    const pair = await issueCertificate(o.ca, { role: 'agent', name: o.node, ...(isIP(address) ? { ipAddresses: [address] } : { dnsNames: [address] }) });
    const layout = o.layout;
    const suffix = randomBytes(4).toString('hex');
    const staging = `${layout.tlsDir}.new-${suffix}`;
    rec.staging = staging;
    const q = shellQuote;
    const prepared = await shell.run(
      [
        `for f in ${q(layout.stateDir)} ${q(layout.tlsDir)}; do if [ -e "$f" ]; then echo yes; else echo no; fi; done`,
        makeDirScript(layout.stateDir, '0700'),
        'echo',
        `rm -rf ${q(staging)} && mkdir -m 0700 ${q(staging)}`,
      ].join('\n'),
      { privileged: true },
    );
    const [state, tls, ...made] = prepared.stdout.split('\n');
    rec.stateDirExisted = state === 'yes' ? true : state === 'no' ? false : null;
    rec.tlsExisted = tls === 'yes' ? true : tls === 'no' ? false : null;
    rec.madeDirs.push(...parseMadeDirs(made.join('\n')).filter((d) => d !== layout.stateDir));
    if (prepared.code !== 0) throw new ArmoryError('ENROLL_E_COMMAND', `cannot create ${layout.stateDir}: ${prepared.stderr.trim().split('\n').slice(-3).join(' ')}`);

    const files = [
      { name: 'ca.pem', ...asLines(o.ca.certPem), mode: '0644' },
      { name: 'node.pem', ...asLines(pair.certPem), mode: '0644' },
      { name: 'node.key', ...asLines(pair.keyPem), mode: '0600' },
    ];
    const hadTls = rec.tlsExisted === true;
    const previous = hadTls ? `${layout.tlsDir}.old-${suffix}` : null;
    rec.previous = previous;
    const stdin = files.map((f) => f.text).join('') + files.map((f) => `${sha256(f.text)}  ./${f.name}\n`).join('');
    await shell.root('writing the certificate', writeAndSwapScript(staging, layout.tlsDir, previous, files), { stdin });
    rec.staging = null;
    const d = describeCertificate(pair.certPem);
    return `${d.subject}, urn:armory:agent:${o.node}, valid until ${d.notAfter.toISOString().slice(0, 10)}, sha256 ${d.fingerprintSha256.slice(0, 23)}…; in ${layout.tlsDir}${hadTls ? ' (replacing the earlier one)' : ''}`;
  },
  async undo(ctx) {
    const rec = ctx.certificate;
    const layout = ctx.o.layout;
    const q = shellQuote;
    const lines: string[] = [];
    if (rec.staging) lines.push(`rm -rf ${q(rec.staging)}`);
    if (rec.stateDirExisted === false) lines.push(`rm -rf ${q(layout.stateDir)}`);
    else if (rec.tlsExisted === true && rec.previous) lines.push(`if [ -e ${q(rec.previous)} ]; then rm -rf ${q(layout.tlsDir)} && mv ${q(rec.previous)} ${q(layout.tlsDir)}; fi`);
    else if (rec.tlsExisted === false) lines.push(`rm -rf ${q(layout.tlsDir)}`);
    lines.push(removeEmptyDirsScript(rec.madeDirs));
    await (await ctx.conn.shell()).root('removing the certificate', lines.join('\n'));
    if (rec.stateDirExisted === false) return `removed ${layout.stateDir}`;
    return rec.previous ? 'the earlier certificate is back in place' : `removed ${layout.tlsDir}`;
  },
  async commit(ctx) {
    if (ctx.certificate.previous) await (await ctx.conn.shell()).root('removing the earlier certificate', `rm -rf ${shellQuote(ctx.certificate.previous)}`);
  },
};
