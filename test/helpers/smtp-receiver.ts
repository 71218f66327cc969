import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** One message as the receiver got it: the envelope, the login used and the raw data. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  readonly auth: { user: string; pass: string } | null;
  readonly data: string;
}

export interface SmtpReceiver {
  readonly port: number;
  readonly mails: ReceivedMail[];
  close(): Promise<void>;
}

const MAX_LINE = 4096;
const MAX_DATA = 1024 * 1024;

/**
 * A small real SMTP server on 127.0.0.1 (RFC 5321 subset: EHLO/HELO, AUTH PLAIN and LOGIN, MAIL,
 * RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) that keeps what it receives. With `credentials`
 * set, any other login is refused with 535, as a real server does.
 */
export async function startSmtpReceiver(options: { credentials?: { user: string; pass: string } } = {}): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const reply = (line: string) => socket.write(`${line}\r\n`);
    let buffer = '';
    let mode: 'command' | 'data' | 'auth-user' | 'auth-pass' = 'command';
    let from = '';
    let to: string[] = [];
    let auth: ReceivedMail['auth'] = null;
    let pendingUser = '';
    let data: string[] = [];
    let dataBytes = 0;
    const login = (user: string, pass: string) => {
      const c = options.credentials;
      if (c && (c.user !== user || c.pass !== pass)) return reply('535 5.7.8 Authentication credentials invalid');
      auth = { user, pass };
      reply('235 2.7.0 Authentication successful');
    };
    const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    const onLine = (line: string) => {
      if (mode === 'data') {
        if (line === '.') {
          mails.push({ from, to, auth, data: data.join('\r\n') });
          data = [];
          dataBytes = 0;
          to = [];
          mode = 'command';
          return reply('250 2.0.0 queued as test');
        }
        dataBytes += line.length + 2;
        if (dataBytes > MAX_DATA) {
          socket.destroy();
          return;
        }
        data.push(line.startsWith('.') ? line.slice(1) : line);
        return;
      }
      if (mode === 'auth-user') {
        pendingUser = b64(line);
        mode = 'auth-pass';
        return reply(`334 ${Buffer.from('Password:').toString('base64')}`);
      }
      if (mode === 'auth-pass') {
        mode = 'command';
        return login(pendingUser, b64(line));
      }
      const [verb = '', ...rest] = line.split(' ');
      const arg = rest.join(' ');
      switch (verb.toUpperCase()) {
        case 'EHLO':
          return socket.write('250-armory-test-smtp\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SIZE 1048576\r\n');
        case 'HELO':
          return reply('250 armory-test-smtp');
        case 'AUTH': {
          const [mech = '', initial] = arg.split(' ');
          if (mech.toUpperCase() === 'PLAIN') {
            if (!initial) return reply('501 5.5.2 initial response required');
            const [, user = '', pass = ''] = b64(initial).split('\0');
            return login(user, pass);
          }
          if (mech.toUpperCase() === 'LOGIN') {
            mode = 'auth-user';
            return reply(`334 ${Buffer.from('Username:').toString('base64')}`);
          }
          return reply('504 5.5.4 mechanism not supported');
        }
        case 'MAIL':
          if (options.credentials && auth === null) return reply('530 5.7.0 Authentication required');
          from = /<([^>]*)>/.exec(arg)?.[1] ?? '';
          return reply('250 2.1.0 OK');
        case 'RCPT':
          to.push(/<([^>]*)>/.exec(arg)?.[1] ?? '');
          return reply('250 2.1.5 OK');
        case 'DATA':
          if (to.length === 0) return reply('554 5.5.1 no valid recipients');
          mode = 'data';
          return reply('354 End data with <CR><LF>.<CR><LF>');
        case 'RSET':
          from = '';
          to = [];
          return reply('250 2.0.0 OK');
        case 'NOOP':
          return reply('250 2.0.0 OK');
        case 'QUIT':
          reply('221 2.0.0 Bye');
          return socket.end();
        default:
          return reply('502 5.5.2 command not recognized');
      }
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        onLine(line);
      }
      if (buffer.length > MAX_LINE && mode !== 'data') socket.destroy();
    });
    reply('220 armory-test-smtp ESMTP ready');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    mails,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
