// The two shim ends as separate processes, for test/bench/shims.js (which bundles this file with
// esbuild, so that the benchmark runs the same code as the agent):
//   node shim-ends.js pki FILE                                  writes two agents' TLS material (one fresh CA)
//   node shim-ends.js server FILE PORT TARGET_PORT [TRANSPORT]  server end on 127.0.0.1:PORT → 127.0.0.1:TARGET_PORT
//   node shim-ends.js client FILE LISTEN_PORT SERVER_PORT [TRANSPORT]
//                                                               client end on 127.0.0.1:LISTEN_PORT → server end
//   (TRANSPORT: mtls, the default, or tcp: then the server end also listens on PORT + 1 for plain paths)
//   node shim-ends.js mirrored-server FILE PORT_OFF PORT_ON TARGET_PORT FOLDER TO
//                                                               the file mirror of FOLDER to the local folder TO (as the
//                                                               agent runs it) and two server ends → TARGET_PORT: on
//                                                               PORT_ON with waitForMirror (replies wait for Mirrors.barrier),
//                                                               on PORT_OFF without
//   node shim-ends.js tls-server FILE PORT TARGET_PORT          a bare mutual-TLS relay (no sessions), the anchor
//   node shim-ends.js tls-client FILE LISTEN_PORT SERVER_PORT   for what the TLS hop alone costs
// Each end prints "ready" once it listens.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Mirrors } from '../../agent/mirror/mirrors.js';
import { ClientEnd } from '../../agent/shims/client-end.js';
import { ServerEnd } from '../../agent/shims/server-end.js';
import type { TlsMaterial } from '../../agent/api/tls-server.js';
import { configSchema } from '../../common/config/document.js';
import { serviceSchema } from '../../common/config/service.js';
import { createClusterCa } from '../../main/core/pki/cluster-ca.js';
import { issueCertificate } from '../../main/core/pki/issue-certificate.js';

const [mode, file, a, b, transport = 'mtls'] = process.argv.slice(2);
const journal = () => undefined;
const shim = (listen: number, target: number, port: number, waitForMirror = false) =>
  serviceSchema.parse({ command: '/bin/true', shims: [{ listen: `127.0.0.1:${listen}`, target: `127.0.0.1:${target}`, port, maxSessions: 100_000, transport: mode === 'mirrored-server' ? 'mtls' : transport, waitForMirror }] }).shims[0] as never;

if (mode === 'pki') {
  const ca = await createClusterCa({ clusterName: 'bench' });
  const mat = async (name: string): Promise<TlsMaterial> => {
    const c = await issueCertificate(ca, { role: 'agent', name, ipAddresses: ['127.0.0.1'] });
    return { caPem: ca.certPem, certPem: c.certPem, keyPem: c.keyPem, node: name };
  };
  fs.writeFileSync(file as string, JSON.stringify({ client: await mat('n1'), server: await mat('n2') }), { mode: 0o600 });
} else if (mode === 'tls-server' || mode === 'tls-client') {
  const pki = JSON.parse(fs.readFileSync(file as string, 'utf8')) as { client: TlsMaterial; server: TlsMaterial };
  const relay = (from: net.Socket, to: net.Socket) => {
    from.setNoDelay(true);
    to.setNoDelay(true);
    from.pipe(to).on('error', () => undefined);
    to.pipe(from).on('error', () => undefined);
    from.on('error', () => to.destroy());
    to.on('error', () => from.destroy());
  };
  const upstream = (): net.Socket =>
    mode === 'tls-server'
      ? net.connect({ host: '127.0.0.1', port: Number(b), allowHalfOpen: true })
      : // allowHalfOpen reaches the TLSSocket at run time; the typings leave it out of ConnectionOptions.
        tls.connect({ host: '127.0.0.1', port: Number(b), allowHalfOpen: true, key: pki.client.keyPem, cert: pki.client.certPem, ca: pki.client.caPem, checkServerIdentity: () => undefined } as tls.ConnectionOptions);
  const server =
    mode === 'tls-server'
      ? tls.createServer({ allowHalfOpen: true, key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.server.caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (s) => relay(s, upstream()))
      : net.createServer({ allowHalfOpen: true }, (s) => relay(s, upstream()));
  await new Promise<void>((resolve) => server.listen(Number(a), '127.0.0.1', resolve));
  process.stdout.write('ready\n');
} else {
  const pki = JSON.parse(fs.readFileSync(file as string, 'utf8')) as { client: TlsMaterial; server: TlsMaterial };
  if (mode === 'server') {
    await new ServerEnd('bench', 0, shim(1, Number(b), Number(a)), pki.server, '127.0.0.1', journal).start();
  } else if (mode === 'mirrored-server') {
    const [, , , , target, folder, to] = process.argv.slice(2);
    const config = configSchema.parse({ services: { bench: { command: '/bin/true', mirror: { folders: [folder], to, standbys: false } } } });
    const mirrors = new Mirrors({ node: 'n2', roles: { epochOf: () => 0, isActive: () => true }, config: () => config, links: null, event: () => undefined });
    await mirrors.refresh();
    const barrierOf = (service: string) => mirrors.barrier(service);
    await new ServerEnd('bench', 0, shim(1, Number(target), Number(a)), pki.server, '127.0.0.1', journal, { barrierOf }).start();
    await new ServerEnd('bench', 0, shim(1, Number(target), Number(b), true), pki.server, '127.0.0.1', journal, { barrierOf }).start();
  } else {
    const port = Number(b);
    await new ClientEnd('bench', 0, shim(Number(a), 1, port), pki.client, { locate: () => ({ host: '127.0.0.1', port }) }, journal).start();
  }
  process.stdout.write('ready\n');
}
