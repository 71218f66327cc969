import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAndKey } from '../../../../../main/core/pki/certificate-and-key.js';
import { describeCertificate } from '../../../../../main/core/pki/certificate-info.js';
import { createClusterCa } from '../../../../../main/core/pki/cluster-ca.js';
import { issueCertificate } from '../../../../../main/core/pki/issue-certificate.js';

const DAY = 86_400_000;

/** What both ends saw of one connection attempt. */
interface Outcome {
  /** The server accepted the client's certificate: the role:name it read from it. */
  serverAccepted: string | null;
  /** The client got the server's greeting. */
  clientGot: string;
  clientError: string | null;
  serverError: string | null;
}

interface Ends {
  server: { ca: string; pair: CertificateAndKey };
  client: { ca: string; pair?: CertificateAndKey };
}

/** One mutual-TLS connection on 127.0.0.1, settled when the client has closed and the server has decided. */
async function connect(ends: Ends): Promise<Outcome> {
  const outcome: Outcome = { serverAccepted: null, clientGot: '', clientError: null, serverError: null };
  let serverDecided: () => void = () => undefined;
  const decided = new Promise<void>((resolve) => (serverDecided = resolve));
  const server = tls.createServer(
    { key: ends.server.pair.keyPem, cert: ends.server.pair.certPem, ca: ends.server.ca, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      const peer = socket.getPeerX509Certificate();
      const d = peer ? describeCertificate(peer.toString()) : null;
      outcome.serverAccepted = `${d?.role ?? '?'}:${d?.name ?? '?'}`;
      serverDecided();
      socket.end(`hello ${outcome.serverAccepted}\n`);
    },
  );
  server.on('tlsClientError', (e: NodeJS.ErrnoException) => {
    outcome.serverError = e.code ?? e.message;
    serverDecided();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => {
      const client = tls.connect({
        host: '127.0.0.1',
        port,
        ca: ends.client.ca,
        ...(ends.client.pair ? { cert: ends.client.pair.certPem, key: ends.client.pair.keyPem } : {}),
      });
      client.setEncoding('utf8');
      client.on('data', (chunk: string) => (outcome.clientGot += chunk));
      client.on('error', (e: NodeJS.ErrnoException) => (outcome.clientError = e.code ?? e.message));
      client.on('close', () => resolve());
    });
    // A client the server refused may close before the server has reported why; a client that
    // refused the server never lets it decide. Wait for the server only when it got that far.
    if (outcome.clientError === null || outcome.clientError.startsWith('ERR_SSL')) await decided;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return outcome;
}

let ca: CertificateAndKey;
let otherCa: CertificateAndKey;
let agent: CertificateAndKey;
let manager: CertificateAndKey;
let strangerManager: CertificateAndKey;

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([createClusterCa({ clusterName: 'lab' }), createClusterCa({ clusterName: 'lab' })]);
  [agent, manager, strangerManager] = await Promise.all([
    issueCertificate(ca, { role: 'agent', name: 'web-1', ipAddresses: ['127.0.0.1'] }),
    issueCertificate(ca, { role: 'manager', name: 'manager' }),
    issueCertificate(otherCa, { role: 'manager', name: 'manager' }),
  ]);
});

describe('certificates of one cluster over node:tls', () => {
  it('an agent server accepts a manager client of the same CA, and each learns who the other is', async () => {
    const o = await connect({ server: { ca: ca.certPem, pair: agent }, client: { ca: ca.certPem, pair: manager } });
    expect(o).toEqual({ serverAccepted: 'manager:manager', clientGot: 'hello manager:manager\n', clientError: null, serverError: null });
  });

  it('refuses a client whose certificate comes from another CA: the handshake fails', async () => {
    const o = await connect({ server: { ca: ca.certPem, pair: agent }, client: { ca: ca.certPem, pair: strangerManager } });
    expect(o.serverAccepted).toBeNull();
    expect(o.clientGot).toBe('');
    // Node's server checks the client's chain after OpenSSL's handshake and drops the socket without
    // an alert: the server reports a tlsClientError (ECONNRESET on Node 20), the client just sees
    // the connection close (under TLS 1.3 after its own side of the handshake had finished).
    expect(o.serverError).not.toBeNull();
  });

  it('refuses a client without a certificate', async () => {
    const o = await connect({ server: { ca: ca.certPem, pair: agent }, client: { ca: ca.certPem } });
    expect(o.serverAccepted).toBeNull();
    expect(o.clientGot).toBe('');
    expect(o.serverError).not.toBeNull();
    expect(o.clientError).toMatch(/^ERR_SSL_/);
  });

  it('a client refuses a server whose certificate comes from another CA', async () => {
    const stranger = await issueCertificate(otherCa, { role: 'agent', name: 'web-1', ipAddresses: ['127.0.0.1'] });
    const o = await connect({ server: { ca: ca.certPem, pair: stranger }, client: { ca: ca.certPem, pair: manager } });
    expect(o.serverAccepted).toBeNull();
    expect(o.clientError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('a client refuses an expired server certificate', async () => {
    const expired = await issueCertificate(ca, { role: 'agent', name: 'web-1', ipAddresses: ['127.0.0.1'], now: new Date(Date.now() - 3 * DAY), days: 1 });
    const o = await connect({ server: { ca: ca.certPem, pair: expired }, client: { ca: ca.certPem, pair: manager } });
    expect(o.serverAccepted).toBeNull();
    expect(o.clientError).toBe('CERT_HAS_EXPIRED');
  });

  it('a client refuses a server certificate that does not name the address it dialled', async () => {
    const elsewhere = await issueCertificate(ca, { role: 'agent', name: 'web-1', ipAddresses: ['198.18.0.7'] });
    const o = await connect({ server: { ca: ca.certPem, pair: elsewhere }, client: { ca: ca.certPem, pair: manager } });
    expect(o.serverAccepted).toBeNull();
    expect(o.clientError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
