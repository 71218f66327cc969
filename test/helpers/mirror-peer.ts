import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ControlServer, type ControlHandlers } from '../../agent/api/control-server.js';
import { startTlsServer } from '../../agent/api/tls-server.js';
import { FolderMirror, type FolderMirrorOptions } from '../../agent/mirror/folder-mirror.js';
import { Mirrors } from '../../agent/mirror/mirrors.js';
import { LocalTarget, PeerTarget } from '../../agent/mirror/mirror-target.js';
import { PeerLinks } from '../../agent/replication/peer-links.js';
import { parseConfigOrThrow } from '../../common/config/load.js';
import { PROTOCOL_VERSION, WIRE_FEATURE_ATTACHMENTS } from '../../common/wire/protocol.js';
import { shimPki } from './shim-rig.js';

type Pki = Awaited<ReturnType<typeof shimPki>>;

/**
 * A standby's mirror receiving end on a mutual-TLS port of 127.0.0.1, in this process: node n2's
 * Mirrors (as a standby of `service`, keeping its copy in `copy`) behind the agent's control server.
 * The copy is a folder of its own, so that both nodes' "same folder" can live on one machine.
 * `features` is what its `hello` lists: the agent's own by default, none for an older agent.
 */
export async function mirrorPeerEnd(copy: string, pki: Pki, service = 'svc', features: readonly string[] = [WIRE_FEATURE_ATTACHMENTS]): Promise<{ port: number; close: () => Promise<void> }> {
  const config = parseConfigOrThrow(`nodes:
  n1: { address: 198.18.0.10 }
  n2: { address: 198.18.0.11 }
services:
  ${service}:
    command: /bin/true
    placement: { nodes: [n1, n2] }
    mirror: { folders: [${JSON.stringify(copy)}] }
`);
  const mirrors = new Mirrors({ node: 'n2', roles: { epochOf: () => 1, isActive: () => false }, config: () => config, links: null, event: () => undefined });
  const handlers = {
    hello: () => ({ protocol: PROTOCOL_VERSION, agentVersion: 'test', pid: process.pid, startedAt: new Date().toISOString(), ...(features.length ? { features: [...features] } : {}) }),
    'mirror.apply': (p, _emit, _onClose, caller) => mirrors.apply(p, caller),
    'mirror.list': (p, _emit, _onClose, caller) => mirrors.list(p, caller),
  } satisfies Partial<ControlHandlers>;
  const sock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'armory-mpeer-')), 'unused.sock');
  // Only these methods are served; any other call gets an error reply.
  const server = new ControlServer(sock, handlers as unknown as ControlHandlers);
  const tlsServer = await startTlsServer(pki.server, { host: '127.0.0.1', port: 0 }, (socket, caller) => server.attach(socket, caller));
  return {
    port: (tlsServer.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
      await server.close();
      fs.rmSync(path.dirname(sock), { recursive: true, force: true });
    },
  };
}

/** What an active node n1 sends a standby end (mirrorPeerEnd) on `port` of 127.0.0.1 through. */
export function peerTargetTo(pki: Pki, port: number, copy: string, service = 'svc'): { target: PeerTarget; close: () => void } {
  const links = new PeerLinks(pki.client, (node) => (node === 'n2' ? { host: '127.0.0.1', port } : null));
  return { target: new PeerTarget('n2', links, service, copy, () => 1), close: () => links.close() };
}

/**
 * A standby's end (mirrorPeerEnd) and a PeerTarget of node n1 sending to it, as an active node's
 * FolderMirror uses it. The target reaches it through a TCP relay that `freeze()` stops (what it
 * has and what comes is held, as on a cut link: calls hang) and `thaw()` lets go again;
 * `wireBytes()` counts what went through it to the standby (TLS records included).
 */
export async function mirrorPeer(
  copy: string,
  service = 'svc',
  features?: readonly string[],
): Promise<{ target: PeerTarget; freeze: () => void; thaw: () => void; wireBytes: () => number; close: () => Promise<void> }> {
  const pki = await shimPki();
  const end = await mirrorPeerEnd(copy, pki, service, features);
  let toEnd = 0;
  const port = end.port;
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const relay = net.createServer((inbound) => {
    const outbound = net.connect({ host: '127.0.0.1', port });
    inbound.on('data', (chunk: Buffer) => (toEnd += chunk.length));
    for (const [a, b] of [[inbound, outbound], [outbound, inbound]] as const) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
      if (frozen) a.pause();
    }
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()));
  const link = peerTargetTo(pki, (relay.address() as AddressInfo).port, copy, service);
  return {
    target: link.target,
    freeze: () => {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    thaw: () => {
      frozen = false;
      for (const s of sockets) s.resume();
    },
    wireBytes: () => toEnd,
    close: async () => {
      link.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      await end.close();
    },
  };
}

/**
 * A folder `src` mirrored by a started FolderMirror to a local folder `to` and to a standby end
 * (its copy in `peerCopy`, reached through mirrorPeer's relay), all under one fresh directory.
 * `copies(rel)` are where the two copies of `rel` are; `close()` stops everything and removes it.
 * `peerFeatures`: what the standby's `hello` lists (see mirrorPeerEnd).
 */
export async function mirroredToLocalAndPeer(options: Partial<Omit<FolderMirrorOptions, 'folder' | 'targets'>> & { peerFeatures?: readonly string[] } = {}) {
  const { peerFeatures, ...fmOptions } = options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armory-mirrored-'));
  const src = path.join(dir, 'src');
  const to = path.join(dir, 'to');
  const peerCopy = path.join(dir, 'peer-copy');
  fs.mkdirSync(src);
  fs.mkdirSync(to);
  const peer = await mirrorPeer(peerCopy, 'svc', peerFeatures);
  const events: string[] = [];
  const fm = new FolderMirror({ service: 'svc', lagAlertMs: 60_000, scrubMs: 3_600_000, event: (r) => events.push(r), ...fmOptions, folder: src, targets: [new LocalTarget(to, src), peer.target] });
  await fm.start();
  return {
    dir,
    src,
    to,
    peerCopy,
    peer,
    fm,
    events,
    copies: (rel: string) => [path.join(to, src, rel), path.join(peerCopy, rel)],
    close: async () => {
      await fm.close();
      await peer.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
