import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ArmoryError } from '../../common/errors/armory-error.js';
import { identityOf, type PeerIdentity } from './peer-identity.js';

/** The TLS material an enrolled agent keeps in DIR/tls: the cluster CA and its own certificate. */
export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** The node name its certificate carries (urn:armory:agent:NAME). */
  node: string;
}

export function loadTlsMaterial(dir: string): TlsMaterial {
  const read = (f: string) => {
    try {
      return fs.readFileSync(path.join(dir, f), 'utf8');
    } catch (e) {
      throw new ArmoryError('AGENT_E_TLS', `cannot read ${path.join(dir, f)}: ${(e as Error).message}`);
    }
  };
  const caPem = read('ca.pem');
  const certPem = read('node.pem');
  const keyPem = read('node.key');
  let id: PeerIdentity | null;
  try {
    id = identityOf(new X509Certificate(certPem));
  } catch (e) {
    throw new ArmoryError('AGENT_E_TLS', `node.pem is not a certificate: ${(e as Error).message}`);
  }
  if (!id || id.role !== 'agent') throw new ArmoryError('AGENT_E_TLS', 'node.pem is not an agent certificate of an Armory cluster');
  return { caPem, certPem, keyPem, node: id.name };
}

/**
 * The agent's network door: mutual TLS 1.3, pinned to the cluster CA. A client without a
 * certificate of this cluster never gets past the handshake; one with a certificate that names no
 * Armory role is closed at once. Each accepted connection is handed over with its identity.
 */
export function startTlsServer(
  material: TlsMaterial,
  listen: { host: string; port: number },
  onConnection: (socket: tls.TLSSocket, caller: PeerIdentity) => void,
): Promise<tls.Server> {
  const server = tls.createServer(
    { key: material.keyPem, cert: material.certPem, ca: material.caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
    (socket) => {
      const peer = socket.getPeerX509Certificate();
      const id = peer ? identityOf(peer) : null;
      if (!socket.authorized || !id) {
        socket.destroy();
        return;
      }
      onConnection(socket, id);
    },
  );
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
