// The two shim ends as separate processes, for test/bench/shims.js (which bundles this file with
// esbuild, so that the benchmark runs the same code as the agent):
//   node shim-ends.js pki FILE                                  writes two agents' TLS material (one fresh CA)
//   node shim-ends.js server FILE PORT TARGET_PORT              server end on 127.0.0.1:PORT → 127.0.0.1:TARGET_PORT
//   node shim-ends.js client FILE LISTEN_PORT SERVER_PORT       client end on 127.0.0.1:LISTEN_PORT → server end
// Each end prints "ready" once it listens.
import fs from 'node:fs';
import { ClientEnd } from '../../agent/shims/client-end.js';
import { ServerEnd } from '../../agent/shims/server-end.js';
import type { TlsMaterial } from '../../agent/api/tls-server.js';
import { serviceSchema } from '../../common/config/service.js';
import { createClusterCa } from '../../main/core/pki/cluster-ca.js';
import { issueCertificate } from '../../main/core/pki/issue-certificate.js';

const [mode, file, a, b] = process.argv.slice(2);
const journal = () => undefined;
const shim = (listen: number, target: number, port: number) =>
  serviceSchema.parse({ command: '/bin/true', shims: [{ listen: `127.0.0.1:${listen}`, target: `127.0.0.1:${target}`, port, maxSessions: 100_000 }] }).shims[0] as never;

if (mode === 'pki') {
  const ca = await createClusterCa({ clusterName: 'bench' });
  const mat = async (name: string): Promise<TlsMaterial> => {
    const c = await issueCertificate(ca, { role: 'agent', name, ipAddresses: ['127.0.0.1'] });
    return { caPem: ca.certPem, certPem: c.certPem, keyPem: c.keyPem, node: name };
  };
  fs.writeFileSync(file as string, JSON.stringify({ client: await mat('n1'), server: await mat('n2') }), { mode: 0o600 });
} else {
  const pki = JSON.parse(fs.readFileSync(file as string, 'utf8')) as { client: TlsMaterial; server: TlsMaterial };
  if (mode === 'server') {
    await new ServerEnd('bench', 0, shim(1, Number(b), Number(a)), pki.server, '127.0.0.1', journal).start();
  } else {
    const port = Number(b);
    await new ClientEnd('bench', 0, shim(Number(a), 1, port), pki.client, { locate: () => ({ host: '127.0.0.1', port }) }, journal).start();
  }
  process.stdout.write('ready\n');
}
